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
# The Authority API listens beyond loopback (for a port published by Docker), which needs TLS
# (docs/protocol.md 7.1): a self-signed certificate made on first start, unless the environment
# names others. Clients trust /data/node/authority.crt; `tracenet` in the container finds it itself.
if [ -z "$TRACENET_AUTHORITY_TLS_CERTIFICATE" ] && [ ! -f "$DATA/authority.crt" ]; then
  node --input-type=module -e "
    import { writeFileSync } from 'node:fs';
    import { createSelfSignedCertificate } from '/app/node/dist/identity/tls.js';
    const tls = await createSelfSignedCertificate('authority', 365);
    writeFileSync('$DATA/keys/authority.key', tls.privateKeyPem, { mode: 0o600 });
    writeFileSync('$DATA/authority.crt', tls.certificatePem);
  "
fi
export TRACENET_AUTHORITY_TLS_CERTIFICATE="${TRACENET_AUTHORITY_TLS_CERTIFICATE:-authority.crt}"
export TRACENET_AUTHORITY_TLS_KEY="${TRACENET_AUTHORITY_TLS_KEY:-keys/authority.key}"
exec node "$CLI" start --data "$DATA" --federation-listen 0.0.0.0:7443 --authority-listen 0.0.0.0:7444 --metrics-listen '' "$@"
