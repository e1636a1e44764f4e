import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Envelope, EnvelopeHeader, ErrorCode, PeerCardBody, ReceiptBody, TracenetError } from '@tracenet/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { initSodium, sodium } from '../../src/crypto/sodium.js';
import { keysDigest, signRoster, verifyRoster } from '../../src/federation/roster.js';
import { dataPaths } from '../../src/identity/data-dir.js';
import { certificateFingerprint, pemToDer } from '../../src/identity/tls.js';
import { TracenetNode } from '../../src/node.js';
import { ManualClock } from '../../src/util/clock.js';
import { makeDataDir, testConfig, waitFor } from '../support/nodes.js';
import { countEntries, type Keyed, sealFrom } from '../support/parties.js';

const HOUR = 3_600_000;

interface Running {
  readonly node: TracenetNode;
  readonly dataDir: string;
  readonly logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => {
  await initSodium();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real node (LevelDB, gRPC over TLS, libsodium) on loopback, with a clock the test moves and its log lines kept. */
async function start(id: string, clock: ManualClock, options: { dataDir?: string; listen?: string; rosterKey?: string } = {}): Promise<Running> {
  const dataDir = options.dataDir ?? (await makeDataDir(id, clock.now()));
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = testConfig({
    federation: { ...(options.listen ? { listen: options.listen } : {}), ...(options.rosterKey ? { rosterKey: options.rosterKey } : {}), rosterGraceMs: 2 * HOUR },
  });
  const node = await TracenetNode.open({ dataDir, config, clock, logger: pino({ level: 'info' }, sink) });
  await node.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await node.stop();
  };
  if (!options.dataDir) cleanups.push(async () => {
    await stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  else cleanups.push(stop);
  return { node, dataDir, logs, stop };
}

/** The keys a node has now, copied: they stay what they are when the node rotates. */
function snapshot(node: TracenetNode): Keyed {
  const { participantId, keyId, keys } = node.identity;
  return { participantId, keyId, keys };
}

async function refusal(promise: Promise<unknown>): Promise<TracenetError> {
  try {
    await promise;
  } catch (error) {
    return TracenetError.from(error);
  }
  throw new Error('expected a refusal');
}

function headerOf(envelopeBase64: string): EnvelopeHeader {
  return EnvelopeHeader.decode(Envelope.decode(Buffer.from(envelopeBase64, 'base64')).header);
}

async function auditTypes(node: TracenetNode): Promise<string[]> {
  const types: string[] = [];
  for await (const value of node.store.sub.audit.values()) types.push(String((JSON.parse(String(value.line)) as { type: string }).type));
  return types;
}

describe('key rotation (docs/protocol.md 15.2)', () => {
  it('announces new keys signed by the old ones; messages in flight are accepted during the grace and refused after it, on both sides', async () => {
    const clock = new ManualClock(Date.now());
    const fra = await start('FRA', clock);
    const bel = await start('BEL', clock);
    await fra.node.peers.pin(bel.node.card, clock.now());
    await bel.node.peers.pin(fra.node.card, clock.now());
    const fraOld = snapshot(fra.node);
    const belKeys = snapshot(bel.node);

    // A checkpoint signed with the old key: the audit log must still verify after the rotation.
    await fra.node.journal.checkpoint();
    const rotation = await fra.node.rotateKeys({ graceMs: HOUR });
    expect(rotation.previousKeyId).toBe(fraOld.keyId);
    expect(rotation.keyId).not.toBe(fraOld.keyId);
    expect(rotation.announcedTo).toEqual(['BEL']);
    expect(PeerCardBody.decode(fra.node.card.body).keyId).toBe(rotation.keyId);
    await waitFor(() => bel.node.peers.get('FRA')?.body.keyId === rotation.keyId, 10_000, 'BEL pins the new card of FRA');
    const pinned = bel.node.peers.get('FRA');
    expect(pinned?.previous.map((p) => [p.body.keyId, p.graceUntilMs])).toEqual([[fraOld.keyId, rotation.graceUntilMs]]);
    // The rotation message itself was signed with the old keys.
    await waitFor(async () => (await countEntries(fra.node.store.sub.sent)) === 1, 10_000, 'receipt of the rotation stored');
    const sent = [];
    for await (const value of fra.node.store.sub.sent.values()) sent.push(value);
    expect(sent.map((v) => headerOf(String(v.envelope)).senderKeyId)).toEqual([fraOld.keyId]);

    // A message FRA sealed with its old keys before the rotation, still on its way: accepted in the grace.
    const inFlight = sealFrom(fraOld, belKeys, clock.now());
    const receipt = await bel.node.receiver.deliver(inFlight.bytes);
    expect(ReceiptBody.decode(receipt.body).status).toBe(1);
    // BEL sealed to FRA's old keys before it heard of the rotation: FRA still opens it, and signs the receipt with the old key.
    const toOld = sealFrom(belKeys, fraOld, clock.now());
    const fraReceipt = ReceiptBody.decode((await fra.node.receiver.deliver(toOld.bytes)).body);
    expect(fraReceipt.issuerKeyId).toBe(fraOld.keyId);
    // New traffic uses the new keys both ways.
    await bel.node.outbox.enqueue({ recipient: 'FRA', kind: 1, body: Buffer.from('0a0173120174', 'hex') });
    await fra.node.outbox.enqueue({ recipient: 'BEL', kind: 1, body: Buffer.from('0a0173120174', 'hex') });
    await waitFor(async () => (await countEntries(bel.node.store.sub.sent)) === 1 && (await countEntries(fra.node.store.sub.sent)) === 2, 10_000, 'both notices delivered');

    // After the grace: the old keys are refused by the peer (sender side) and by FRA itself (recipient side).
    clock.advance(HOUR + 1);
    const late = await refusal(bel.node.receiver.deliver(sealFrom(fraOld, belKeys, clock.now()).bytes));
    expect([late.codeName, late.field, late.rule]).toEqual(['SENDER_KEY_MISMATCH', 'header.sender_key_id', 'rotation_grace']);
    const lateToOld = await refusal(fra.node.receiver.deliver(sealFrom(belKeys, fraOld, clock.now()).bytes));
    expect([lateToOld.codeName, lateToOld.field, lateToOld.rule]).toEqual(['WRONG_RECIPIENT', 'header.recipient_key_id', 'rotation_grace']);

    // Audited on both sides.
    expect(await auditTypes(fra.node)).toContain('keys.rotated');
    const belAudit = [];
    for await (const value of bel.node.store.sub.audit.values()) belAudit.push(JSON.parse(String(value.line)) as Record<string, unknown>);
    expect(belAudit.find((e) => e.type === 'peer.pinned' && e.via === 'key_rotation')).toMatchObject({ peer: 'FRA', keyId: rotation.keyId, previousKeyId: fraOld.keyId });
    // Checkpoints and heads name their key: the log verifies across the rotation, not with the new key alone.
    expect(await verifyAuditLog(fra.node.store, (keyId) => fra.node.identity.signingPublicKeyOf(keyId))).toMatchObject({ ok: true });
    expect(await verifyAuditLog(fra.node.store, fra.node.identity.keys.signingPublicKey)).toMatchObject({ ok: false, reason: 'checkpoint signature does not verify' });
  });

  it('re-seals queued messages with the new keys and sends the rotation first; every key file is mode 0600', async () => {
    const clock = new ManualClock(Date.now());
    const fra = await start('FRA', clock);
    const belDir = await makeDataDir('BEL', clock.now());
    cleanups.push(() => rm(belDir, { recursive: true, force: true }));
    const bel = await start('BEL', clock, { dataDir: belDir });
    const address = bel.node.federationAddress;
    await fra.node.peers.pin(bel.node.card, clock.now());
    await bel.node.peers.pin(fra.node.card, clock.now());
    await bel.stop();
    const queued = await fra.node.outbox.enqueue({ recipient: 'BEL', kind: 1, body: Buffer.from('0a0173120174', 'hex') });
    // One attempt has failed: the notice was sealed with the old keys once already.
    await waitFor(async () => Number((await fra.node.store.sub.outbox.get(queued))?.attempts) >= 1, 15_000, 'a failed attempt');
    const rotation = await fra.node.rotateKeys({ graceMs: HOUR });
    // An attempt sealed before the rotation may still be waiting for BEL (until its 2 s deadline):
    // it would be delivered with the old keys, which the grace allows. Let it end first.
    await new Promise((resolve) => setTimeout(resolve, 2500));

    const back = await start('BEL', clock, { dataDir: belDir, listen: address });
    await waitFor(async () => (await countEntries(fra.node.store.sub.sent)) === 2, 15_000, 'rotation and notice delivered');
    const notice = await fra.node.store.sub.sent.get(queued);
    expect(headerOf(String(notice?.envelope)).senderKeyId).toBe(rotation.keyId);
    expect(back.node.peers.get('FRA')?.body.keyId).toBe(rotation.keyId);

    const keysDir = dataPaths(fra.dataDir).keysDir;
    const files = [...(await readdir(keysDir)).filter((f) => f !== 'retired').map((f) => join(keysDir, f)), ...(await readdir(join(keysDir, 'retired'))).map((f) => join(keysDir, 'retired', f))];
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) expect(((await stat(file)).mode & 0o777).toString(8), file).toBe('600');
  });
  it('presents the previous certificate to a peer until it has the KEY_ROTATION, also after a restart (2.5)', async () => {
    const clock = new ManualClock(Date.now());
    const [fraDir, belDir] = await Promise.all([makeDataDir('FRA', clock.now()), makeDataDir('BEL', clock.now())]);
    cleanups.push(() => Promise.all([fraDir, belDir].map((dir) => rm(dir, { recursive: true, force: true }))).then(() => undefined));
    const fra = await start('FRA', clock, { dataDir: fraDir });
    const bel = await start('BEL', clock, { dataDir: belDir });
    const belAddress = bel.node.federationAddress;
    await fra.node.peers.pin(bel.node.card, clock.now());
    await bel.node.peers.pin(fra.node.card, clock.now());
    const previous = certificateFingerprint(pemToDer(fra.node.identity.tls.certificatePem));
    await bel.stop();
    const rotation = await fra.node.rotateKeys({ graceMs: HOUR });
    await fra.stop();
    // The previous certificate and key stay on disk, owner only, for the grace.
    const kept = join(dataPaths(fraDir).retiredKeysDir, `${rotation.previousKeyId}.tls.pem`);
    expect(((await stat(kept)).mode & 0o777).toString(8)).toBe('600');

    // FRA comes back first: BEL, when it is back, admits only the certificate it pinned, the previous one.
    const fraAgain = await start('FRA', clock, { dataDir: fraDir });
    const belAgain = await start('BEL', clock, { dataDir: belDir, listen: belAddress });
    await waitFor(() => belAgain.node.peers.get('FRA')?.body.keyId === rotation.keyId, 15_000, 'BEL pins the new card of FRA');
    // From now on BEL admits the new certificate, and the previous one until the grace ends.
    const current = certificateFingerprint(pemToDer(fraAgain.node.identity.tls.certificatePem));
    expect(belAgain.node.peers.byTlsFingerprint(current, clock.now())?.participantId).toBe('FRA');
    expect(belAgain.node.peers.byTlsFingerprint(previous, clock.now())?.participantId).toBe('FRA');
    await fraAgain.node.outbox.enqueue({ recipient: 'BEL', kind: 1, body: Buffer.from('0a0173120174', 'hex') });
    await waitFor(async () => (await countEntries(fraAgain.node.store.sub.sent)) === 2, 15_000, 'rotation and notice delivered');
    clock.advance(HOUR + 1);
    expect(belAgain.node.peers.byTlsFingerprint(previous, clock.now())).toBeUndefined();
  });
});

describe('key revocation by the owner (docs/protocol.md 15.3)', () => {
  it('is signed by the new keys, opened once the peer pinned the new card out of band, and refuses the old key for ever', async () => {
    const clock = new ManualClock(Date.now());
    const fra = await start('FRA', clock);
    const bel = await start('BEL', clock);
    await fra.node.peers.pin(bel.node.card, clock.now());
    await bel.node.peers.pin(fra.node.card, clock.now());
    const fraOld = snapshot(fra.node);
    const belKeys = snapshot(bel.node);
    const oldCard = fra.node.card;

    const revocation = await fra.node.revokeKeys({ reason: 'laptop stolen' });
    // FRA refuses its revoked key at once, without grace.
    const toRevoked = await refusal(fra.node.receiver.deliver(sealFrom(belKeys, fraOld, clock.now()).bytes));
    expect([toRevoked.codeName, toRevoked.rule]).toEqual(['WRONG_RECIPIENT', 'revoked_key']);
    // BEL admits no connection with the new keys' certificate before it pinned their card (2.5): the outbox keeps retrying.
    await waitFor(async () => ['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(String((await fra.node.store.sub.outbox.values().all())[0]?.lastError)), 10_000, 'revocation refused until pinned');
    // The operator checks the new key id out of band and pins the card.
    const replaced = await bel.node.peers.pin(revocation.card, clock.now(), { replaceKeys: true });
    expect(replaced.peer.body.keyId).toBe(revocation.keyId);
    await waitFor(() => (bel.node.peers.get('FRA')?.revokedKeyIds ?? []).includes(fraOld.keyId), 10_000, 'revocation accepted');
    const withOld = await refusal(bel.node.receiver.deliver(sealFrom(fraOld, belKeys, clock.now()).bytes));
    expect([withOld.codeName, withOld.field, withOld.rule]).toEqual(['SENDER_KEY_MISMATCH', 'header.sender_key_id', 'revoked_key']);
    const repin = await refusal(bel.node.peers.pin(oldCard, clock.now(), { replaceKeys: true }));
    expect([repin.codeName, repin.rule]).toEqual(['INVALID_PEER_CARD', 'revoked_key']);
    expect(await auditTypes(fra.node)).toContain('keys.revoked');
    expect(await auditTypes(bel.node)).toContain('peer.keys_revoked');
  });

  it('a key change without rotation message or operator confirmation is refused', async () => {
    const clock = new ManualClock(Date.now());
    const fra = await start('FRA', clock);
    const bel = await start('BEL', clock);
    await bel.node.peers.pin(fra.node.card, clock.now());
    const revocation = await fra.node.revokeKeys();
    const refused = await refusal(bel.node.peers.pin(revocation.card, clock.now()));
    expect([refused.codeName, refused.field, refused.rule]).toEqual(['INVALID_PEER_CARD', 'card.key_id', 'pinned_key']);
  });
});

describe('roster (docs/protocol.md 15.4, 15.5)', () => {
  function operator() {
    const pair = sodium().crypto_sign_keypair();
    return { publicHex: Buffer.from(pair.publicKey).toString('hex'), secret: pair.privateKey };
  }
  function member(node: TracenetNode, revoked: string[] = []) {
    const { keyId, keys } = node.identity;
    return { participantId: node.identity.participantId, keys: [{ keyId, keysDigest: keysDigest(keys.signingPublicKey, keys.encryptionPublicKey) }], revokedKeyIds: revoked };
  }

  it('admits what a signed roster vouches for, refuses tampering and roll-back, and refuses keys it revokes', async () => {
    const clock = new ManualClock(Date.now());
    const op = operator();
    const fra = await start('FRA', clock, { rosterKey: op.publicHex });
    const bel = await start('BEL', clock, { rosterKey: op.publicHex });
    const fraKeys = snapshot(fra.node);
    const belKeys = snapshot(bel.node);

    const missing = await refusal(bel.node.peers.pin(fra.node.card, clock.now()));
    expect([missing.codeName, missing.rule]).toEqual(['INVALID_PEER_CARD', 'roster_missing']);

    const body = { version: 1, federation: 'test', serial: 1, issuedAtMs: clock.now(), expiresAtMs: clock.now() + HOUR, members: [member(fra.node), member(bel.node)] };
    const roster = signRoster(body, op.secret);
    const tampered = { ...roster, body: Buffer.from(roster.body).fill(0x41, 3, 4) };
    const bad = await refusal(bel.node.roster.install(tampered));
    expect([bad.codeName, bad.field, bad.rule]).toEqual(['INVALID_FIELD', 'roster.signature', 'roster_signature']);
    const forged = await refusal(bel.node.roster.install(signRoster(body, operator().secret)));
    expect(forged.rule).toBe('roster_signature');

    await bel.node.roster.install(roster);
    await fra.node.roster.install(roster);
    await bel.node.peers.pin(fra.node.card, clock.now());
    await fra.node.peers.pin(bel.node.card, clock.now());
    await bel.node.receiver.deliver(sealFrom(fraKeys, belKeys, clock.now()).bytes);

    const again = await refusal(bel.node.roster.install(roster));
    expect([again.codeName, again.rule]).toEqual(['INVALID_FIELD', 'roster_serial']);

    await bel.node.roster.install(signRoster({ ...body, serial: 2, members: [member(fra.node, [fraKeys.keyId]), member(bel.node)] }, op.secret));
    const revoked = await refusal(bel.node.receiver.deliver(sealFrom(fraKeys, belKeys, clock.now()).bytes));
    expect([revoked.codeName, revoked.field, revoked.rule]).toEqual(['SENDER_KEY_MISMATCH', 'header.sender_key_id', 'revoked_key']);
    expect(await auditTypes(bel.node)).toContain('roster.loaded');
  });

  it('once expired: no new pin; pinned peers work through the grace with an alert, then are refused', async () => {
    const clock = new ManualClock(Date.now());
    const op = operator();
    const fra = await start('FRA', clock, { rosterKey: op.publicHex });
    const bel = await start('BEL', clock, { rosterKey: op.publicHex });
    const ken = await start('KEN', clock);
    const roster = signRoster({ version: 1, federation: 'test', serial: 7, issuedAtMs: clock.now(), expiresAtMs: clock.now() + HOUR, members: [member(fra.node), member(bel.node), member(ken.node)] }, op.secret);
    await bel.node.roster.install(roster);
    await bel.node.peers.pin(fra.node.card, clock.now());
    const fraKeys = snapshot(fra.node);
    const belKeys = snapshot(bel.node);

    clock.advance(HOUR + 1);
    const pin = await refusal(bel.node.peers.pin(ken.node.card, clock.now()));
    expect([pin.codeName, pin.field, pin.rule]).toEqual(['INVALID_PEER_CARD', 'roster', 'roster_expired']);
    await bel.node.receiver.deliver(sealFrom(fraKeys, belKeys, clock.now()).bytes);
    expect(bel.logs.some((l) => l.alert === 'roster_expired' && l.level === 50)).toBe(true);
    expect(bel.node.roster.summary()?.state).toBe('expired');

    clock.advance(2 * HOUR);
    const lapsed = await refusal(bel.node.receiver.deliver(sealFrom(fraKeys, belKeys, clock.now()).bytes));
    expect([lapsed.codeName, lapsed.field, lapsed.rule]).toEqual(['UNKNOWN_SENDER', 'header.sender', 'roster_expired']);
    expect(bel.logs.some((l) => l.alert === 'roster_lapsed')).toBe(true);
    expect(lapsed.retryable).toBe(true);
    expect(ErrorCode.ERROR_CODE_UNKNOWN_SENDER).toBe(lapsed.code);
  });
});

describe('roster test vector (docs/protocol.md 15.4)', () => {
  it('signs and verifies the documented roster byte for byte', () => {
    const operatorKeys = sodium().crypto_sign_seed_keypair(Buffer.from('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f', 'hex'));
    const digest = keysDigest(
      Buffer.from('03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8', 'hex'),
      Buffer.from('358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254', 'hex'),
    );
    expect(digest.toString('hex')).toBe('548fba50e9ffd19c001f6016b2a45e139cef029a1fa3491f1f1500714b9fac18');
    const roster = signRoster(
      { version: 1, federation: 'test', serial: 1, issuedAtMs: 1767225600000, expiresAtMs: 1769904000000, members: [{ participantId: 'FRA', keys: [{ keyId: '548fba50e9ffd19c', keysDigest: digest }], revokedKeyIds: [] }] },
      operatorKeys.privateKey,
    );
    expect(Buffer.from(operatorKeys.publicKey).toString('hex')).toBe('cd14b37f956e953194ff7fb73b3d81dcc561d61a7538094b7c3e1a643ee5f3aa');
    expect(roster.body.toString('hex')).toBe(
      '080112047465737418012080d0eab6b733288098ffb3c133323b0a0346524112340a10353438666261353065396666643139631220548fba50e9ffd19c001f6016b2a45e139cef029a1fa3491f1f1500714b9fac18',
    );
    expect(roster.signature.toString('hex')).toBe(
      '128e660a0cab01680522864e15dabd5115d94212162f9130d22021a6e55b16fe003acd454e0d84db1555fcc4cf4f9508a95e177de1a5da6f1937bcee6c8b1803',
    );
    expect(verifyRoster(roster, operatorKeys.publicKey, 1767225600000).members[0]?.participantId).toBe('FRA');
  });
});
