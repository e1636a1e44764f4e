import { rm } from 'node:fs/promises';
import { KeyRevocation, KeyRotation, MessageKind, ReceiptBody, ReceiptStatus, TracenetError } from '@tracenet/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initSodium } from '../src/crypto/sodium.js';
import { preciseReason } from '../src/federation/envelope-opener.js';
import { issuePeerCard } from '../src/identity/data-dir.js';
import { TracenetNode } from '../src/node.js';
import { ManualClock } from '../src/util/clock.js';
import { makeDataDir, testConfig, testLogger } from './support/nodes.js';
import { type Keyed, keysOnly, makeParty, type Party, rejectionOf, sealFrom } from './support/parties.js';

/**
 * What a peer observes of another participant's key announcements (docs/protocol.md 15.2, 15.3):
 * KEY_ROTATION and KEY_REVOCATION envelopes sealed by hand from parties, delivered to a real
 * in-process node (LevelDB, libsodium) whose clock the test moves.
 */

const HOUR = 3_600_000;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => {
  await initSodium();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Opens and starts a node on `dataDir` (kept: the test may open it again); stopped after the test. */
async function open(dataDir: string, clock: ManualClock): Promise<TracenetNode> {
  const node = await TracenetNode.open({ dataDir, config: testConfig(), clock, logger: testLogger() });
  await node.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await node.stop();
  };
  cleanups.push(stop);
  stoppers.set(node, stop);
  return node;
}

const stoppers = new Map<TracenetNode, () => Promise<void>>();
async function stop(node: TracenetNode): Promise<void> {
  await stoppers.get(node)?.();
}

async function party(participantId: string, nowMs: number): Promise<Party> {
  const made = await makeParty(participantId, nowMs);
  cleanups.push(made.cleanup);
  return made;
}

/** BEL, a real node, with FRA (a party) pinned; `fra2` holds other keys of FRA, with a newer card. */
async function setup() {
  const clock = new ManualClock(Date.now());
  const dataDir = await makeDataDir('BEL', clock.now());
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const bel = await open(dataDir, clock);
  const fra1 = await party('FRA', clock.now());
  const fra2 = await party('FRA', clock.now());
  const fra2Card = issuePeerCard(fra2.identity, ['127.0.0.1:1'], clock.now() + 1);
  await bel.peers.pin(fra1.card, clock.now());
  const belKeys: Keyed = {
    participantId: bel.identity.participantId,
    keyId: bel.identity.keyId,
    keys: bel.identity.keys,
  };
  return { clock, dataDir, bel, belKeys, fra1: fra1.identity, fra2: fra2.identity, fra2Card };
}

function rotationBody(card: ReturnType<typeof issuePeerCard>, previousKeyId: string, graceUntilMs: number): Buffer {
  return Buffer.from(KeyRotation.encode({ card, previousKeyId, graceUntilMs }).finish());
}

function revocationBody(revokedKeyIds: string[], revokedAtMs: number): Buffer {
  return Buffer.from(KeyRevocation.encode({ revokedKeyIds, revokedAtMs, reason: 'test' }).finish());
}

const refusal = async (promise: Promise<unknown>): Promise<TracenetError> =>
  TracenetError.from(await rejectionOf(promise));

/** A rejection after authentication: (code, field, rule) and a signed REJECTED receipt. */
async function rejected(promise: Promise<unknown>): Promise<[string, string, string]> {
  const error = await refusal(promise);
  expect(error.receipt && ReceiptBody.decode(error.receipt.body).status).toBe(ReceiptStatus.RECEIPT_STATUS_REJECTED);
  return [error.codeName, error.field, error.rule];
}

/** The precise reason of a refusal before authentication (docs/protocol.md 4.4). */
async function unauthenticated(promise: Promise<unknown>): Promise<[string, string, string]> {
  const answered = await refusal(promise);
  expect([answered.codeName, answered.rule]).toEqual(['UNKNOWN_SENDER', 'authentication']);
  const precise = preciseReason(answered);
  return [precise.codeName, precise.field, precise.rule];
}

async function accepted(promise: Promise<{ body: Uint8Array }>): Promise<void> {
  expect(ReceiptBody.decode((await promise).body).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
}

describe('KEY_ROTATION received from a peer (docs/protocol.md 15.2)', () => {
  it('a key message signed with a previous key still in its grace is refused (key_message_signer)', async () => {
    const { clock, bel, belKeys, fra1, fra2, fra2Card } = await setup();
    // FRA rotates from fra1 to fra2, signed with fra1 (the pinned key): accepted, fra1 enters its grace.
    await accepted(
      bel.receiver.deliver(
        sealFrom(fra1, belKeys, clock.now(), {
          kind: MessageKind.MESSAGE_KIND_KEY_ROTATION,
          body: rotationBody(fra2Card, fra1.keyId, clock.now() + HOUR),
        }).bytes,
      ),
    );
    expect(bel.peers.get('FRA')?.body.keyId).toBe(fra2.keyId);
    // In the grace fra1 still carries messages...
    await accepted(bel.receiver.deliver(sealFrom(fra1, belKeys, clock.now()).bytes));
    // ...but not key changes: neither a rotation onward from the pinned key, nor a revocation.
    const fra3 = await party('FRA', clock.now());
    const fra3Card = issuePeerCard(fra3.identity, ['127.0.0.1:1'], clock.now() + 2);
    const onward = sealFrom(fra1, belKeys, clock.now(), {
      kind: MessageKind.MESSAGE_KIND_KEY_ROTATION,
      body: rotationBody(fra3Card, fra2.keyId, clock.now() + HOUR),
    });
    expect(await rejected(bel.receiver.deliver(onward.bytes))).toEqual([
      'INVALID_FIELD',
      'header.sender_key_id',
      'key_message_signer',
    ]);
    const other = keysOnly('FRA').keyId;
    const revoking = sealFrom(fra1, belKeys, clock.now(), {
      kind: MessageKind.MESSAGE_KIND_KEY_REVOCATION,
      body: revocationBody([other], clock.now()),
    });
    expect(await rejected(bel.receiver.deliver(revoking.bytes))).toEqual([
      'INVALID_FIELD',
      'header.sender_key_id',
      'key_message_signer',
    ]);
    const peer = bel.peers.get('FRA');
    expect([peer?.body.keyId, peer?.revokedKeyIds]).toEqual([fra2.keyId, []]);
  });

  it('a rotation whose previous_key_id is not the pinned key id is refused (rotation_previous_key)', async () => {
    const { clock, bel, belKeys, fra1, fra2, fra2Card } = await setup();
    for (const previousKeyId of [keysOnly('FRA').keyId, fra2.keyId]) {
      const sealed = sealFrom(fra1, belKeys, clock.now(), {
        kind: MessageKind.MESSAGE_KIND_KEY_ROTATION,
        body: rotationBody(fra2Card, previousKeyId, clock.now() + HOUR),
      });
      expect(await rejected(bel.receiver.deliver(sealed.bytes)), previousKeyId).toEqual([
        'INVALID_FIELD',
        'body.previous_key_id',
        'rotation_previous_key',
      ]);
    }
    expect(bel.peers.get('FRA')?.body.keyId).toBe(fra1.keyId);
    // The same rotation naming the pinned key is accepted.
    await accepted(
      bel.receiver.deliver(
        sealFrom(fra1, belKeys, clock.now(), {
          kind: MessageKind.MESSAGE_KIND_KEY_ROTATION,
          body: rotationBody(fra2Card, fra1.keyId, clock.now() + HOUR),
        }).bytes,
      ),
    );
    expect(bel.peers.get('FRA')?.body.keyId).toBe(fra2.keyId);
  });
});

describe('KEY_REVOCATION received from a peer (docs/protocol.md 15.3)', () => {
  it('a revocation naming the key that signs it is refused (not_signing_key)', async () => {
    const { clock, bel, belKeys, fra1 } = await setup();
    const other = keysOnly('FRA').keyId;
    for (const revoked of [[fra1.keyId], [other, fra1.keyId]]) {
      const sealed = sealFrom(fra1, belKeys, clock.now(), {
        kind: MessageKind.MESSAGE_KIND_KEY_REVOCATION,
        body: revocationBody(revoked, clock.now()),
      });
      expect(await rejected(bel.receiver.deliver(sealed.bytes)), revoked.join()).toEqual([
        'INVALID_FIELD',
        'body.revoked_key_ids',
        'not_signing_key',
      ]);
    }
    expect(bel.peers.get('FRA')?.revokedKeyIds).toEqual([]);
    await accepted(bel.receiver.deliver(sealFrom(fra1, belKeys, clock.now()).bytes));
  });

  it('revoked keys stay refused after the node restarts on the same data directory', async () => {
    const { clock, dataDir, bel, belKeys, fra1, fra2, fra2Card } = await setup();
    const fra1Card = bel.peers.get('FRA')?.card;
    // FRA's key fra1 is compromised: the operator pins fra2 out of band, then FRA revokes fra1, signed with fra2.
    await bel.peers.pin(fra2Card, clock.now(), { replaceKeys: true });
    await accepted(
      bel.receiver.deliver(
        sealFrom(fra2, belKeys, clock.now(), {
          kind: MessageKind.MESSAGE_KIND_KEY_REVOCATION,
          body: revocationBody([fra1.keyId], clock.now()),
        }).bytes,
      ),
    );
    expect(await unauthenticated(bel.receiver.deliver(sealFrom(fra1, belKeys, clock.now()).bytes))).toEqual([
      'SENDER_KEY_MISMATCH',
      'header.sender_key_id',
      'revoked_key',
    ]);

    await stop(bel);
    const again = await open(dataDir, clock);
    expect(await unauthenticated(again.receiver.deliver(sealFrom(fra1, belKeys, clock.now()).bytes))).toEqual([
      'SENDER_KEY_MISMATCH',
      'header.sender_key_id',
      'revoked_key',
    ]);
    const repin = await refusal(again.peers.pin(fra1Card!, clock.now(), { replaceKeys: true }));
    expect([repin.codeName, repin.field, repin.rule]).toEqual(['INVALID_PEER_CARD', 'card.key_id', 'revoked_key']);
    // fra2 still speaks for FRA.
    await accepted(again.receiver.deliver(sealFrom(fra2, belKeys, clock.now()).bytes));
    expect(again.peers.get('FRA')?.revokedKeyIds).toEqual([fra1.keyId]);
  });
});
