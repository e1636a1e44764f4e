#!/bin/sh
# Starts the reference node (node/dist, built with `npx tsc -b`) as a node under test for
#   tracenet-conformance --spawn "sh conformance/bin/reference-node.sh"
# It initialises a fresh identity in the empty directory the suite passes in
# TRACENET_CONFORMANCE_DATA, then runs `tracenet start` on ephemeral loopback ports; the node writes
# <data>/node.json once both ports serve, and the token is <data>/keys/authority.token.
# TRACENET_CONFORMANCE_ID chooses the participant id (default FRA).
set -e
cli="$(dirname "$0")/../../node/dist/cli/main.js"
node "$cli" init --id "${TRACENET_CONFORMANCE_ID:-FRA}" --data "$TRACENET_CONFORMANCE_DATA" >/dev/null
exec node "$cli" start --data "$TRACENET_CONFORMANCE_DATA" --federation-listen 127.0.0.1:0 \
  --authority-listen 127.0.0.1:0 --metrics-listen "" --log-level warn
