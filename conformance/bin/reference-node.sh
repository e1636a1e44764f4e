#!/bin/sh
# Starts the reference node (node/dist, built with `npx tsc -b`) as a node under test for
#   tracenet-conformance --spawn "sh conformance/bin/reference-node.sh"
# following the launch contract of docs/conformance.md section 3:
# - TRACENET_CONFORMANCE_DATA: the data directory. Empty: initialise a fresh identity there
#   (TRACENET_CONFORMANCE_ID chooses the participant id, default FRA; TRACENET_CONFORMANCE_KEYS
#   "<Ed25519 seed hex>:<X25519 secret hex>" its keys). Not empty (a restart): start on its data.
# - TRACENET_CONFORMANCE_ROSTER_KEY / _ROSTER_GRACE_MS / _FEDERATION: the roster key, the roster
#   grace and the federation's name (protocol 15.4, 15.5).
# Then `tracenet start` on ephemeral loopback ports; the node writes <data>/node.json once both
# ports serve, and the token is <data>/keys/authority.token.
set -e
here="$(dirname "$0")"
cli="$here/../../node/dist/cli/main.js"
data="$TRACENET_CONFORMANCE_DATA"
if [ ! -f "$data/identity.json" ]; then
  node "$cli" init --id "${TRACENET_CONFORMANCE_ID:-FRA}" --data "$data" >/dev/null
  if [ -n "$TRACENET_CONFORMANCE_KEYS" ]; then node "$here/use-keys.mjs" "$data" "$TRACENET_CONFORMANCE_KEYS"; fi
fi
if [ -n "$TRACENET_CONFORMANCE_ROSTER_KEY" ]; then export TRACENET_FEDERATION_ROSTER_KEY="$TRACENET_CONFORMANCE_ROSTER_KEY"; fi
if [ -n "$TRACENET_CONFORMANCE_FEDERATION" ]; then export TRACENET_FEDERATION_NAME="$TRACENET_CONFORMANCE_FEDERATION"; fi
if [ -n "$TRACENET_CONFORMANCE_ROSTER_GRACE_MS" ]; then export TRACENET_FEDERATION_ROSTER_GRACE_MS="$TRACENET_CONFORMANCE_ROSTER_GRACE_MS"; fi
exec node "$cli" start --data "$data" --federation-listen 127.0.0.1:0 \
  --authority-listen 127.0.0.1:0 --metrics-listen "" --log-level warn
