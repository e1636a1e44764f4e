#!/usr/bin/env node
// Part of the reference node's conformance launcher (reference-node.sh), not of the suite: gives a
// freshly initialised reference node the keys the suite asked for in TRACENET_CONFORMANCE_KEYS
// ("<Ed25519 seed hex>:<X25519 secret key hex>", e.g. the 3.8 test vector keys). It rewrites the
// node's key files and the key id in identity.json; the node re-issues its card with these keys
// when it starts (its card's key id differs).
//   node use-keys.mjs <data dir> <seed hex>:<x25519 secret hex>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sodium from 'libsodium-wrappers';
import { initSodium, keyIdOf } from '@tracenet/node';

const [dataDir, spec] = process.argv.slice(2);
const [seedHex, encryptionHex] = (spec ?? '').split(':');
if (!dataDir || !/^[0-9a-f]{64}$/.test(seedHex ?? '') || !/^[0-9a-f]{64}$/.test(encryptionHex ?? '')) {
  process.stderr.write('usage: use-keys.mjs <data dir> <Ed25519 seed hex>:<X25519 secret key hex>\n');
  process.exit(2);
}
await sodium.ready;
await initSodium();
const signing = sodium.crypto_sign_seed_keypair(Buffer.from(seedHex, 'hex'));
const encryptionSecret = Buffer.from(encryptionHex, 'hex');
const keyId = keyIdOf(Buffer.from(signing.publicKey), Buffer.from(sodium.crypto_scalarmult_base(encryptionSecret)));
writeFileSync(join(dataDir, 'keys', 'signing.key'), Buffer.from(signing.privateKey).toString('base64'), {
  mode: 0o600,
});
writeFileSync(join(dataDir, 'keys', 'encryption.key'), encryptionSecret.toString('base64'), { mode: 0o600 });
const identityFile = join(dataDir, 'identity.json');
writeFileSync(
  identityFile,
  `${JSON.stringify({ ...JSON.parse(readFileSync(identityFile, 'utf8')), keyId }, null, 2)}\n`,
);
