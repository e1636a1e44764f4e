#!/bin/sh
# Entry point of the Tracenet node image (scripts/docker/build-node-image.mjs).
# First start: `tracenet init` into /data/node for participant $TRACENET_ID, advertising
# $TRACENET_ENDPOINT (default <hostname>:7443) in its card. Every start: `tracenet start` as PID 1,
# so that `docker stop` (SIGTERM) stops the node gracefully and `docker kill` crashes it.
# Extra arguments are passed to `tracenet start` (e.g. --log-level warn).
set -e
DATA=/data/node
CLI=/app/node/dist/cli/main.js
if [ ! -f "$DATA/identity.json" ]; then
  : "${TRACENET_ID:?set TRACENET_ID to the participant id (e.g. BEL) for the first start}"
  node "$CLI" init --id "$TRACENET_ID" --data "$DATA" --endpoint "${TRACENET_ENDPOINT:-$(hostname):7443}" >/dev/null
fi
exec node "$CLI" start --data "$DATA" --federation-listen 0.0.0.0:7443 --authority-listen 0.0.0.0:7444 --metrics-listen '' "$@"
