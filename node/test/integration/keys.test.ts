import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  Envelope,
  EnvelopeHeader,
  ErrorCode,
  KeyRevocation,
  KeyRotation,
  MessageKind,
  PeerCard,
  PeerCardBody,
  ReceiptBody,
  ReceiptStatus,
  RosterBody,
  TracenetError,
} from '@tracenet/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { domain, initSodium, sodium } from '../../src/crypto/sodium.js';
import { preciseReason } from '../../src/federation/envelope-opener.js';
import { keysDigest, signRoster, verifyRoster } from '../../src/keys/roster.js';
import { PeerRegistry } from '../../src/federation/peers.js';
import { dataPaths, issuePeerCard } from '../../src/identity/data-dir.js';
import { certificateFingerprint, pemToDer } from '../../src/identity/tls.js';
import { TracenetNode } from '../../src/node.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { makeDataDir, testConfig, waitFor } from '../support/nodes.js';
import { countEntries, type Keyed, makeParty, notice, sealFrom } from '../support/parties.js';

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
async function start(
  id: string,
  clock: ManualClock,
  options: { dataDir?: string; listen?: string; rosterKey?: string } = {},
): Promise<Running> {
  const dataDir = options.dataDir ?? (await makeDataDir(id, clock.now()));
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = testConfig({
    federation: {
      ...(options.listen ? { listen: options.listen } : {}),
      ...(options.rosterKey ? { rosterKey: options.rosterKey, name: 'test' } : {}),
      rosterGraceMs: 2 * HOUR,
    },
  });
  const node = await TracenetNode.open({ dataDir, config, clock, logger: pino({ level: 'info' }, sink) });
  await node.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await node.stop();
  };
  if (!options.dataDir)
    cleanups.push(async () => {
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

/**
 * The precise reason of a refusal before authentication, after checking that the envelope was
 * answered with the one public refusal (docs/protocol.md 4.4).
 */
async function unauthenticated(promise: Promise<unknown>): Promise<TracenetError> {
  const answered = await refusal(promise);
  expect([answered.codeName, answered.field, answered.rule, answered.retryable]).toEqual([
    'UNKNOWN_SENDER',
    '',
    'authentication',
    true,
  ]);
  return preciseReason(answered);
}

function headerOf(envelopeBase64: string): EnvelopeHeader {
  return EnvelopeHeader.decode(Envelope.decode(Buffer.from(envelopeBase64, 'base64')).header);
}

async function auditLines(node: TracenetNode): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  for await (const value of node.store.audit.entries.values())
    lines.push(JSON.parse(String(value.line)) as Record<string, unknown>);
  return lines;
}

async function auditTypes(node: TracenetNode): Promise<string[]> {
  return (await auditLines(node)).map((line) => String(line.type));
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
    await waitFor(
      () => bel.node.peers.get('FRA')?.body.keyId === rotation.keyId,
      10_000,
      'BEL pins the new card of FRA',
    );
    const pinned = bel.node.peers.get('FRA');
    expect(pinned?.previous.map((p) => [p.body.keyId, p.graceUntilMs])).toEqual([
      [fraOld.keyId, rotation.graceUntilMs],
    ]);
    // The rotation message itself was signed with the old keys.
    await waitFor(
      async () => (await countEntries(fra.node.store.outbox.sent)) === 1,
      10_000,
      'receipt of the rotation stored',
    );
    const sent = [];
    for await (const value of fra.node.store.outbox.sent.values()) sent.push(value);
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
    await waitFor(
      async () =>
        (await countEntries(bel.node.store.outbox.sent)) === 1 &&
        (await countEntries(fra.node.store.outbox.sent)) === 2,
      10_000,
      'both notices delivered',
    );

    // After the grace: the old keys are refused by the peer (sender side) and by FRA itself (recipient side).
    clock.advance(HOUR + 1);
    const late = await unauthenticated(bel.node.receiver.deliver(sealFrom(fraOld, belKeys, clock.now()).bytes));
    expect([late.codeName, late.field, late.rule]).toEqual([
      'SENDER_KEY_MISMATCH',
      'header.sender_key_id',
      'rotation_grace',
    ]);
    const lateToOld = await unauthenticated(fra.node.receiver.deliver(sealFrom(belKeys, fraOld, clock.now()).bytes));
    expect([lateToOld.codeName, lateToOld.field, lateToOld.rule]).toEqual([
      'WRONG_RECIPIENT',
      'header.recipient_key_id',
      'rotation_grace',
    ]);

    // Audited on both sides.
    expect(await auditTypes(fra.node)).toContain('keys.rotated');
    const belAudit = [];
    for await (const value of bel.node.store.audit.entries.values())
      belAudit.push(JSON.parse(String(value.line)) as Record<string, unknown>);
    expect(belAudit.find((e) => e.type === 'peer.pinned' && e.via === 'key_rotation')).toMatchObject({
      peer: 'FRA',
      keyId: rotation.keyId,
      previousKeyId: fraOld.keyId,
    });
    // Checkpoints and heads name their key: the log verifies across the rotation, not with the new key alone.
    expect(await verifyAuditLog(fra.node.store, (keyId) => fra.node.identity.signingPublicKeyOf(keyId))).toMatchObject({
      ok: true,
    });
    expect(await verifyAuditLog(fra.node.store, fra.node.identity.keys.signingPublicKey)).toMatchObject({
      ok: false,
      reason: 'checkpoint signature does not verify',
    });
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
    const queued = await fra.node.outbox.enqueue({
      recipient: 'BEL',
      kind: 1,
      body: Buffer.from('0a0173120174', 'hex'),
    });
    // One attempt has failed: the notice was sealed with the old keys once already.
    await waitFor(
      async () => Number((await fra.node.store.outbox.queue.get(queued))?.attempts) >= 1,
      15_000,
      'a failed attempt',
    );
    const rotation = await fra.node.rotateKeys({ graceMs: HOUR });
    // An attempt sealed before the rotation may still be waiting for BEL (until its 2 s deadline):
    // it would be delivered with the old keys, which the grace allows. Let it end first.
    await new Promise((resolve) => setTimeout(resolve, 2500));

    const back = await start('BEL', clock, { dataDir: belDir, listen: address });
    await waitFor(
      async () => (await countEntries(fra.node.store.outbox.sent)) === 2,
      15_000,
      'rotation and notice delivered',
    );
    const notice = await fra.node.store.outbox.sent.get(queued);
    expect(headerOf(String(notice?.envelope)).senderKeyId).toBe(rotation.keyId);
    expect(back.node.peers.get('FRA')?.body.keyId).toBe(rotation.keyId);

    const keysDir = dataPaths(fra.dataDir).keysDir;
    const files = [
      ...(await readdir(keysDir)).filter((f) => f !== 'retired').map((f) => join(keysDir, f)),
      ...(await readdir(join(keysDir, 'retired'))).map((f) => join(keysDir, 'retired', f)),
    ];
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) expect(((await stat(file)).mode & 0o777).toString(8), file).toBe('600');
  });
  it('presents the previous certificate to a peer until it has the KEY_ROTATION, also after a restart (2.5)', async () => {
    const clock = new ManualClock(Date.now());
    const [fraDir, belDir] = await Promise.all([makeDataDir('FRA', clock.now()), makeDataDir('BEL', clock.now())]);
    cleanups.push(() =>
      Promise.all([fraDir, belDir].map((dir) => rm(dir, { recursive: true, force: true }))).then(() => undefined),
    );
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
    await waitFor(
      () => belAgain.node.peers.get('FRA')?.body.keyId === rotation.keyId,
      15_000,
      'BEL pins the new card of FRA',
    );
    // From now on BEL admits the new certificate, and the previous one until the grace ends.
    const current = certificateFingerprint(pemToDer(fraAgain.node.identity.tls.certificatePem));
    expect(belAgain.node.peers.byTlsFingerprint(current, clock.now())?.participantId).toBe('FRA');
    expect(belAgain.node.peers.byTlsFingerprint(previous, clock.now())?.participantId).toBe('FRA');
    await fraAgain.node.outbox.enqueue({ recipient: 'BEL', kind: 1, body: Buffer.from('0a0173120174', 'hex') });
    await waitFor(
      async () => (await countEntries(fraAgain.node.store.outbox.sent)) === 2,
      15_000,
      'rotation and notice delivered',
    );
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
    const toRevoked = await unauthenticated(fra.node.receiver.deliver(sealFrom(belKeys, fraOld, clock.now()).bytes));
    expect([toRevoked.codeName, toRevoked.rule]).toEqual(['WRONG_RECIPIENT', 'revoked_key']);
    // BEL admits no connection with the new keys' certificate before it pinned their card (2.5): the outbox keeps retrying.
    await waitFor(
      async () =>
        ['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(String((await fra.node.store.outbox.queue.all())[0]?.lastError)),
      10_000,
      'revocation refused until pinned',
    );
    // The operator checks the new key id out of band and pins the card.
    const replaced = await bel.node.peers.pin(revocation.card, clock.now(), { replaceKeys: true });
    expect(replaced.peer.body.keyId).toBe(revocation.keyId);
    await waitFor(
      () => (bel.node.peers.get('FRA')?.revokedKeyIds ?? []).includes(fraOld.keyId),
      10_000,
      'revocation accepted',
    );
    const withOld = await unauthenticated(bel.node.receiver.deliver(sealFrom(fraOld, belKeys, clock.now()).bytes));
    expect([withOld.codeName, withOld.field, withOld.rule]).toEqual([
      'SENDER_KEY_MISMATCH',
      'header.sender_key_id',
      'revoked_key',
    ]);
    const repin = await refusal(bel.node.peers.pin(oldCard, clock.now(), { replaceKeys: true }));
    expect([repin.codeName, repin.rule]).toEqual(['INVALID_PEER_CARD', 'revoked_key']);
    // Unpinning FRA does not forget what it revoked: its old card stays refused, also after a restart.
    await bel.node.peers.remove('FRA', clock.now());
    const reloaded = new PeerRegistry({
      store: bel.node.store,
      journal: bel.node.journal,
      identity: bel.node.identity,
    });
    await reloaded.load();
    for (const registry of [bel.node.peers, reloaded]) {
      const afterRemoval = await refusal(registry.pin(oldCard, clock.now()));
      expect([afterRemoval.codeName, afterRemoval.rule]).toEqual(['INVALID_PEER_CARD', 'revoked_key']);
    }
    expect((await reloaded.pin(revocation.card, clock.now())).peer.revokedKeyIds).toEqual([fraOld.keyId]);
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

/** A federation operator's signing keys. */
function operator() {
  const pair = sodium().crypto_sign_keypair();
  return { publicHex: Buffer.from(pair.publicKey).toString('hex'), secret: pair.privateKey };
}

/** The roster entry of a participant with the given keys. */
function member(keyed: Keyed, revoked: string[] = []) {
  const { keyId, keys } = keyed;
  return {
    participantId: keyed.participantId,
    keys: [{ keyId, keysDigest: keysDigest(keys.signingPublicKey, keys.encryptionPublicKey) }],
    revokedKeyIds: revoked,
  };
}

describe('roster (docs/protocol.md 15.4, 15.5)', () => {
  it('admits what a signed roster vouches for, refuses tampering and roll-back, and refuses keys it revokes', async () => {
    const clock = new ManualClock(Date.now());
    const op = operator();
    const fra = await start('FRA', clock, { rosterKey: op.publicHex });
    const bel = await start('BEL', clock, { rosterKey: op.publicHex });
    const fraKeys = snapshot(fra.node);
    const belKeys = snapshot(bel.node);

    const missing = await refusal(bel.node.peers.pin(fra.node.card, clock.now()));
    expect([missing.codeName, missing.rule]).toEqual(['INVALID_PEER_CARD', 'roster_missing']);

    const body = {
      version: 1,
      federation: 'test',
      serial: 1,
      issuedAtMs: clock.now(),
      expiresAtMs: clock.now() + HOUR,
      members: [member(fra.node.identity), member(bel.node.identity)],
    };
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

    await bel.node.roster.install(
      signRoster(
        { ...body, serial: 2, members: [member(fra.node.identity, [fraKeys.keyId]), member(bel.node.identity)] },
        op.secret,
      ),
    );
    const revoked = await unauthenticated(bel.node.receiver.deliver(sealFrom(fraKeys, belKeys, clock.now()).bytes));
    expect([revoked.codeName, revoked.field, revoked.rule]).toEqual([
      'SENDER_KEY_MISMATCH',
      'header.sender_key_id',
      'revoked_key',
    ]);
    expect(await auditTypes(bel.node)).toContain('roster.loaded');
  });

  it('once expired: no new pin; pinned peers work through the grace with an alert, then are refused', async () => {
    const clock = new ManualClock(Date.now());
    const op = operator();
    const fra = await start('FRA', clock, { rosterKey: op.publicHex });
    const bel = await start('BEL', clock, { rosterKey: op.publicHex });
    const ken = await start('KEN', clock);
    const roster = signRoster(
      {
        version: 1,
        federation: 'test',
        serial: 7,
        issuedAtMs: clock.now(),
        expiresAtMs: clock.now() + HOUR,
        members: [member(fra.node.identity), member(bel.node.identity), member(ken.node.identity)],
      },
      op.secret,
    );
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
    const lapsed = await unauthenticated(bel.node.receiver.deliver(sealFrom(fraKeys, belKeys, clock.now()).bytes));
    expect([lapsed.codeName, lapsed.field, lapsed.rule]).toEqual(['UNKNOWN_SENDER', 'header.sender', 'roster_expired']);
    expect(bel.logs.some((l) => l.alert === 'roster_lapsed')).toBe(true);
    expect(ErrorCode.ERROR_CODE_UNKNOWN_SENDER).toBe(lapsed.code);
  });

  it('the minute timer alerts on an expired roster without traffic, and erases retired keys whose grace ended (logical time)', async () => {
    const clock = new ManualScheduler(Date.now());
    const op = operator();
    const bel = await start('BEL', clock, { rosterKey: op.publicHex });
    await bel.node.roster.install(
      signRoster(
        {
          version: 1,
          federation: 'test',
          serial: 3,
          issuedAtMs: clock.now(),
          expiresAtMs: clock.now() + HOUR,
          members: [member(bel.node.identity)],
        },
        op.secret,
      ),
    );
    const rotation = await bel.node.rotateKeys({ graceMs: HOUR });
    const retired = dataPaths(bel.dataDir).retiredKeysDir;
    expect(await readdir(retired)).toHaveLength(3);

    // Both fall due; nothing happens until the timer runs.
    clock.set(clock.now() + HOUR);
    expect(bel.logs.some((l) => l.alert === 'roster_expired')).toBe(false);
    await clock.advance(60_000);
    expect(bel.logs.some((l) => l.alert === 'roster_expired' && l.level === 50)).toBe(true);
    await waitFor(
      async () => (await readdir(retired)).length === 0,
      5000,
      `the secret keys of ${rotation.previousKeyId} erased`,
    );
  });
});

describe('rotations under a roster (docs/protocol.md 15.2, 15.5)', () => {
  it('a key thief who rotates to its own key does not outlive the roster revoking the stolen key: the rotation is held, not applied', async () => {
    const clock = new ManualClock(Date.now());
    const op = operator();
    const bel = await start('BEL', clock, { rosterKey: op.publicHex });
    const [fra, thief] = await Promise.all([makeParty('FRA', clock.now()), makeParty('FRA', clock.now())]);
    cleanups.push(fra.cleanup, thief.cleanup);
    const belKeys = snapshot(bel.node);
    const roster = {
      version: 1,
      federation: 'test',
      serial: 1,
      issuedAtMs: clock.now(),
      expiresAtMs: clock.now() + HOUR,
      members: [member(fra.identity), member(belKeys)],
    };
    await bel.node.roster.install(signRoster(roster, op.secret));
    await bel.node.peers.pin(fra.card, clock.now());

    // The thief stole FRA's keys and announces, signed with them, a rotation to a key of its own.
    const thiefCard = issuePeerCard(thief.identity, ['127.0.0.1:1'], clock.now() + 1);
    const body = KeyRotation.encode({
      card: thiefCard,
      previousKeyId: fra.identity.keyId,
      graceUntilMs: clock.now() + HOUR,
    }).finish();
    const receipt = await bel.node.receiver.deliver(
      sealFrom(fra.identity, belKeys, clock.now(), { kind: MessageKind.MESSAGE_KIND_KEY_ROTATION, body }).bytes,
    );
    expect(ReceiptBody.decode(receipt.body).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    expect(bel.node.peers.get('FRA')?.body.keyId).toBe(fra.identity.keyId);
    expect(bel.node.peers.get('FRA')?.held?.body.keyId).toBe(thief.identity.keyId);
    const thiefSends = await unauthenticated(
      bel.node.receiver.deliver(sealFrom(thief.identity, belKeys, clock.now()).bytes),
    );
    expect([thiefSends.codeName, thiefSends.rule]).toEqual(['SENDER_KEY_MISMATCH', 'pinned_key']);

    // FRA reports the theft; the operator's next roster revokes the stolen key. Nothing of the thief gets in.
    await bel.node.roster.install(
      signRoster(
        { ...roster, serial: 2, members: [member(fra.identity, [fra.identity.keyId]), member(belKeys)] },
        op.secret,
      ),
    );
    const stolen = await unauthenticated(bel.node.receiver.deliver(sealFrom(fra.identity, belKeys, clock.now()).bytes));
    expect([stolen.codeName, stolen.rule]).toEqual(['SENDER_KEY_MISMATCH', 'revoked_key']);
    const thiefAgain = await unauthenticated(
      bel.node.receiver.deliver(sealFrom(thief.identity, belKeys, clock.now()).bytes),
    );
    expect([thiefAgain.codeName, thiefAgain.rule]).toEqual(['SENDER_KEY_MISMATCH', 'pinned_key']);
    expect(bel.node.peers.get('FRA')?.body.keyId).toBe(fra.identity.keyId);
    const held = (await auditLines(bel.node)).find((e) => e.type === 'peer.rotation_held');
    expect(held).toMatchObject({ peer: 'FRA', keyId: thief.identity.keyId, previousKeyId: fra.identity.keyId });
  });

  it('an honest rotation waits, stored, until a roster lists the new key, then applies by itself and the queued traffic flows', async () => {
    const clock = new ManualClock(Date.now());
    const op = operator();
    const fra = await start('FRA', clock, { rosterKey: op.publicHex });
    const bel = await start('BEL', clock, { rosterKey: op.publicHex });
    const roster = {
      version: 1,
      federation: 'test',
      serial: 1,
      issuedAtMs: clock.now(),
      expiresAtMs: clock.now() + HOUR,
      members: [member(snapshot(fra.node)), member(snapshot(bel.node))],
    };
    for (const node of [fra.node, bel.node]) await node.roster.install(signRoster(roster, op.secret));
    await fra.node.peers.pin(bel.node.card, clock.now());
    await bel.node.peers.pin(fra.node.card, clock.now());
    const fraOld = snapshot(fra.node);

    const rotation = await fra.node.rotateKeys({ graceMs: HOUR });
    await waitFor(
      () => bel.node.peers.get('FRA')?.held?.body.keyId === rotation.keyId,
      10_000,
      'BEL holds the rotation',
    );
    expect(bel.node.peers.get('FRA')?.body.keyId).toBe(fraOld.keyId);
    // Held means stored: a registry loaded from the store has it too.
    const reloaded = new PeerRegistry({
      store: bel.node.store,
      journal: bel.node.journal,
      identity: bel.node.identity,
    });
    await reloaded.load();
    expect(reloaded.get('FRA')?.held?.body.keyId).toBe(rotation.keyId);
    // FRA seals with its new keys from now on and presents their certificate: BEL admits no connection
    // with it (a held card is not pinned, 2.5) until the roster catches up; the outbox keeps retrying.
    const queued = await fra.node.outbox.enqueue({
      recipient: 'BEL',
      kind: MessageKind.MESSAGE_KIND_NOTICE,
      body: notice(),
    });
    await waitFor(
      async () =>
        ['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(
          String((await fra.node.store.outbox.queue.get(queued))?.lastError),
        ),
      10_000,
      'the notice refused while the rotation is held',
    );
    expect(
      bel.node.peers.byTlsFingerprint(
        certificateFingerprint(pemToDer(fra.node.identity.tlsCertificatePem)),
        clock.now(),
      ),
    ).toBeUndefined();

    await bel.node.roster.install(
      signRoster(
        { ...roster, serial: 2, members: [member(snapshot(fra.node)), member(snapshot(bel.node))] },
        op.secret,
      ),
    );
    expect(bel.node.peers.get('FRA')?.body.keyId).toBe(rotation.keyId);
    expect(bel.node.peers.get('FRA')?.held).toBeUndefined();
    expect(bel.node.peers.get('FRA')?.previous.map((p) => [p.body.keyId, p.graceUntilMs])).toEqual([
      [fraOld.keyId, rotation.graceUntilMs],
    ]);
    await waitFor(
      async () => (await fra.node.store.outbox.sent.get(queued)) !== undefined,
      15_000,
      'the notice delivered once the rotation applied',
    );
    const pinned = (await auditLines(bel.node)).find((e) => e.type === 'peer.pinned' && e.via === 'key_rotation');
    expect(pinned).toMatchObject({ peer: 'FRA', keyId: rotation.keyId, previousKeyId: fraOld.keyId });
    expect(typeof pinned?.heldSinceMs).toBe('number');
  });

  it("refuses a roster of another federation than the node's federation.name, and a roster key without that name", async () => {
    const clock = new ManualClock(Date.now());
    const op = operator();
    const bel = await start('BEL', clock, { rosterKey: op.publicHex });
    const body = {
      version: 1,
      federation: 'test',
      serial: 1,
      issuedAtMs: clock.now(),
      expiresAtMs: clock.now() + HOUR,
      members: [member(snapshot(bel.node))],
    };
    for (const [federation, rule] of [
      ['other', 'roster_federation'],
      ['Test', 'roster_federation'],
      ['', 'roster_federation'],
      ['test\u202e', 'control_character'],
    ] as const) {
      const refused = await refusal(bel.node.roster.install(signRoster({ ...body, federation }, op.secret)));
      expect([refused.codeName, refused.field, refused.rule], federation).toEqual([
        'INVALID_FIELD',
        'roster.federation',
        rule,
      ]);
    }
    expect(bel.node.roster.summary()).toBeUndefined();
    expect(await auditTypes(bel.node)).not.toContain('roster.loaded');
    await bel.node.roster.install(signRoster(body, op.secret));

    const dataDir = await makeDataDir('KEN', clock.now());
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const unnamed = await refusal(
      TracenetNode.open({
        dataDir,
        config: testConfig({ federation: { rosterKey: op.publicHex } }),
        clock,
        logger: pino({ level: 'silent' }),
      }),
    );
    expect([unnamed.codeName, unnamed.field, unnamed.rule]).toEqual(['INVALID_FIELD', 'federation.name', 'config']);
  });
});

/** `encoded` with `value` appended as int64 (or uint64) field `fieldNo`, by hand: the generated encoders take numbers only. */
function withVarint(encoded: Uint8Array, fieldNo: number, value: bigint): Buffer {
  const writer = new BinaryWriter();
  writer.raw(encoded);
  if (value < 0n) writer.tag(fieldNo, WireType.Varint).int64(value);
  else writer.tag(fieldNo, WireType.Varint).uint64(value);
  return Buffer.from(writer.finish());
}

describe('integers beyond ±(2^53 − 1) in key messages, cards and rosters (docs/protocol.md 0, 15.2–15.4)', () => {
  const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

  it('a KEY_ROTATION or KEY_REVOCATION carrying one is rejected naming the field, with a REJECTED receipt', async () => {
    const clock = new ManualClock(Date.now());
    const fra = await start('FRA', clock);
    const bel = await start('BEL', clock);
    await bel.node.peers.pin(fra.node.card, clock.now());
    const fraKeys = snapshot(fra.node);
    const belKeys = snapshot(bel.node);
    const rotation = { card: fra.node.card, previousKeyId: fraKeys.keyId, graceUntilMs: 0 };
    // The new card's body carries a validity end beyond 2^53 − 1 (field 12 of PeerCardBody).
    const cardBody = PeerCardBody.decode(fra.node.card.body);
    const oversizedCard: PeerCard = {
      body: withVarint(PeerCardBody.encode({ ...cardBody, validUntilMs: 0 }).finish(), 12, SAFE + 1n),
      signature: fra.node.card.signature,
    };
    const cases = [
      [
        MessageKind.MESSAGE_KIND_KEY_ROTATION,
        withVarint(KeyRotation.encode(rotation).finish(), 3, SAFE + 1n),
        'INVALID_FIELD',
        'body.grace_until_ms',
      ],
      [
        MessageKind.MESSAGE_KIND_KEY_ROTATION,
        withVarint(KeyRotation.encode(rotation).finish(), 3, -(2n ** 63n)),
        'INVALID_FIELD',
        'body.grace_until_ms',
      ],
      [
        MessageKind.MESSAGE_KIND_KEY_REVOCATION,
        withVarint(
          KeyRevocation.encode({ revokedKeyIds: ['0123456789abcdef'], revokedAtMs: 0, reason: '' }).finish(),
          2,
          2n ** 63n - 1n,
        ),
        'INVALID_FIELD',
        'body.revoked_at_ms',
      ],
      [
        MessageKind.MESSAGE_KIND_KEY_ROTATION,
        KeyRotation.encode({ ...rotation, card: oversizedCard, graceUntilMs: clock.now() + HOUR }).finish(),
        'INVALID_PEER_CARD',
        'body.card.valid_until_ms',
      ],
    ] as const;
    for (const [kind, body, code, field] of cases) {
      const rejected = await refusal(
        bel.node.receiver.deliver(sealFrom(fraKeys, belKeys, clock.now(), { kind, body }).bytes),
      );
      expect([rejected.codeName, rejected.field, rejected.rule], field).toEqual([code, field, 'safe_integer']);
      expect(rejected.receipt && ReceiptBody.decode(rejected.receipt.body).status).toBe(
        ReceiptStatus.RECEIPT_STATUS_REJECTED,
      );
    }
    expect(bel.node.peers.get('FRA')?.body.keyId).toBe(fraKeys.keyId);
  });

  it('LoadRoster refuses a roster carrying one, naming the field, and installs nothing', async () => {
    const clock = new ManualClock(Date.now());
    const op = operator();
    const bel = await start('BEL', clock, { rosterKey: op.publicHex });
    const encoded = (body: Partial<RosterBody>) =>
      RosterBody.encode({
        version: 1,
        federation: 'test',
        serial: 1,
        issuedAtMs: clock.now(),
        expiresAtMs: clock.now() + HOUR,
        members: [],
        ...body,
      }).finish();
    const signed = (bytes: Buffer) => ({
      body: bytes,
      signature: Buffer.from(
        sodium().crypto_sign_detached(Buffer.concat([domain('tracenet.v1/roster'), bytes]), op.secret),
      ),
    });
    for (const [bytes, field] of [
      [withVarint(encoded({ serial: 0 }), 3, 2n ** 64n - 1n), 'roster.serial'],
      [withVarint(encoded({ issuedAtMs: 0 }), 4, -SAFE - 1n), 'roster.issued_at_ms'],
      [withVarint(encoded({ expiresAtMs: 0 }), 5, SAFE + 1n), 'roster.expires_at_ms'],
    ] as const) {
      const refused = await refusal(bel.node.roster.install(signed(bytes)));
      expect([refused.codeName, refused.field, refused.rule], field).toEqual(['INVALID_FIELD', field, 'safe_integer']);
    }
    expect(bel.node.roster.summary()).toBeUndefined();
  });
});

describe('retired secret keys (docs/protocol.md 15.2)', () => {
  it('are erased once their grace has ended, by the running node and at start; their public keys stay for the audit log', async () => {
    const clock = new ManualClock(Date.now());
    const dataDir = await makeDataDir('FRA', clock.now());
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const fra = await start('FRA', clock, { dataDir });
    await fra.node.journal.checkpoint();
    const first = await fra.node.rotateKeys({ graceMs: HOUR });
    await fra.node.journal.checkpoint();
    const second = await fra.node.rotateKeys({ graceMs: 3 * HOUR });
    const retiredDir = dataPaths(dataDir).retiredKeysDir;
    const files = async () => (await readdir(retiredDir)).sort();
    // The TLS certificate and key kept for the grace (presented as a client certificate, 2.5) are secrets of their key id too.
    const keyFiles = (keyId: string) => [`${keyId}.encryption.key`, `${keyId}.signing.key`, `${keyId}.tls.pem`];
    expect(await files()).toEqual([...keyFiles(first.previousKeyId), ...keyFiles(second.previousKeyId)].sort());
    expect(fra.node.identity.keySet(first.previousKeyId, clock.now())).toMatchObject({
      keyId: first.previousKeyId,
      tls: { certificatePem: expect.any(String) },
    });

    clock.advance(HOUR - 1);
    expect(await fra.node.eraseRetiredKeys()).toEqual([]);
    expect(await files()).toHaveLength(6);
    clock.advance(1);
    expect(await fra.node.eraseRetiredKeys()).toEqual([first.previousKeyId]);
    expect(await files()).toEqual(keyFiles(second.previousKeyId));
    const erasedSet = fra.node.identity.retired.find((r) => r.keyId === first.previousKeyId);
    expect([erasedSet?.keys, erasedSet?.tls]).toEqual([undefined, undefined]);
    // Nothing is sealed with those keys any more, so their certificate is no longer presented.
    expect(fra.node.identity.keySet(first.previousKeyId, clock.now())).toBe('rotation_grace');

    await fra.stop();
    clock.advance(2 * HOUR);
    const again = await start('FRA', clock, { dataDir });
    expect(await files()).toEqual([]);
    const erased = (await auditLines(again.node)).filter((e) => e.type === 'keys.erased').map((e) => e.keyId);
    expect(erased).toEqual([first.previousKeyId, second.previousKeyId]);
    expect(again.node.identity.signingPublicKeyOf(first.previousKeyId)).toBeDefined();
    expect(
      await verifyAuditLog(again.node.store, (keyId) => again.node.identity.signingPublicKeyOf(keyId)),
    ).toMatchObject({ ok: true });
  });
});

describe('roster test vector (docs/protocol.md 15.4)', () => {
  it('signs and verifies the documented roster byte for byte', () => {
    const operatorKeys = sodium().crypto_sign_seed_keypair(
      Buffer.from('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f', 'hex'),
    );
    const digest = keysDigest(
      Buffer.from('03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8', 'hex'),
      Buffer.from('358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254', 'hex'),
    );
    expect(digest.toString('hex')).toBe('548fba50e9ffd19c001f6016b2a45e139cef029a1fa3491f1f1500714b9fac18');
    const roster = signRoster(
      {
        version: 1,
        federation: 'test',
        serial: 1,
        issuedAtMs: 1767225600000,
        expiresAtMs: 1769904000000,
        members: [
          { participantId: 'FRA', keys: [{ keyId: '548fba50e9ffd19c', keysDigest: digest }], revokedKeyIds: [] },
        ],
      },
      operatorKeys.privateKey,
    );
    expect(Buffer.from(operatorKeys.publicKey).toString('hex')).toBe(
      'cd14b37f956e953194ff7fb73b3d81dcc561d61a7538094b7c3e1a643ee5f3aa',
    );
    expect(roster.body.toString('hex')).toBe(
      '080112047465737418012080d0eab6b733288098ffb3c133323b0a0346524112340a10353438666261353065396666643139631220548fba50e9ffd19c001f6016b2a45e139cef029a1fa3491f1f1500714b9fac18',
    );
    expect(roster.signature.toString('hex')).toBe(
      '128e660a0cab01680522864e15dabd5115d94212162f9130d22021a6e55b16fe003acd454e0d84db1555fcc4cf4f9508a95e177de1a5da6f1937bcee6c8b1803',
    );
    expect(verifyRoster(roster, operatorKeys.publicKey, 1767225600000, 'test').members[0]?.participantId).toBe('FRA');
  });
});
