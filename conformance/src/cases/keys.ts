import {
  ErrorCode,
  KeyRevocation,
  KeyRotation,
  MessageDirection,
  MessageKind,
  PeerCardBody,
  type Roster,
  RosterBody,
  type RosterMember,
} from '@tracenet/proto';
import type { ConformanceCase, NodeUnderTest } from '../case.js';
import {
  CaseFailure,
  ensureAccepted,
  ensureEach,
  ensureEqual,
  ensureOk,
  ensureOneRefusal,
  ensureRefused,
  type ExpectedRefusal,
  NOT_AUTHENTICATED,
} from '../check.js';
import {
  keyIdOf,
  keysDigest,
  pairKey,
  participantKeys,
  type ParticipantKeys,
  signRoster,
  verifyCard,
} from '../codec/index.js';
import type { FakePeer, KeySet } from '../fake-peer.js';
import {
  announceRotation,
  listedAs,
  rotateAndRevokePrevious,
  sendAccepted,
  sendKeyMessage,
  sleep,
} from '../fixtures.js';

const E = ErrorCode;
const K = MessageKind;

/** The key id the node holds pinned for `peer` (`ListPeers`). */
async function pinnedKeyId(node: NodeUnderTest, peer: FakePeer): Promise<string | undefined> {
  return (await node.target.authority.call('listPeers', {})).peers.find((p) => p.participantId === peer.participantId)
    ?.keyId;
}

/** A correct notice from `peer` sealed with `keySet`; the answer. */
async function noticeWith(node: NodeUnderTest, peer: FakePeer, keySet: KeySet) {
  const sealed = peer.seal({ keySet });
  return { sealed, outcome: await node.host.deliverRaw(sealed.bytes) };
}

/** Rotation and revocation of a peer's keys as the node under test receives them (protocol 15.2, 15.3). */
export const KEY_CASES: ConformanceCase[] = [
  {
    id: 'keys.rotation-accepted',
    section: '15.2',
    feature: 'keys',
    title:
      'a KEY_ROTATION signed with the pinned keys pins the new card; envelopes under the new keys and, within the grace, the previous keys are accepted',
    async run(ctx) {
      const peer = await ctx.peer();
      await announceRotation(peer);
      ensureEqual(await pinnedKeyId(ctx, peer), peer.keyId, 'the pinned key id after the rotation');
      const fresh = await noticeWith(ctx, peer, peer.keySet);
      ensureAccepted(fresh.outcome, peer.receiptOf(fresh.sealed.header.messageId, fresh.sealed.digest));
      const old = await noticeWith(ctx, peer, peer.previous[0] as KeySet);
      ensureAccepted(old.outcome, peer.receiptOf(old.sealed.header.messageId, old.sealed.digest));
    },
  },
  {
    id: 'keys.rotation-checks',
    section: '15.2',
    feature: 'keys',
    cites: ['2.3'],
    title:
      'a KEY_ROTATION naming another previous key, carrying a card of another participant, of the same keys, not newer, not verifying or with a control character in its display name, is refused naming the check, and nothing changes',
    async run(ctx) {
      const peer = await ctx.peer();
      const other = ctx.host.freshId();
      const items: Array<
        [string, (r: KeyRotation, previous: KeySet, next: ParticipantKeys) => KeyRotation, ExpectedRefusal]
      > = [
        [
          'another previous key id',
          (r) => ({ ...r, previousKeyId: '0123456789abcdef' }),
          { code: E.ERROR_CODE_INVALID_FIELD, field: 'body.previous_key_id', rule: 'rotation_previous_key' },
        ],
        [
          'a card of another participant',
          (r, _p, next) => ({ ...r, card: peer.makeCard(next, { participantId: other }) }),
          { code: E.ERROR_CODE_INVALID_PEER_CARD, field: 'body.card.participant_id', rule: 'rotation_participant' },
        ],
        [
          'a card of the pinned keys',
          (r, previous) => ({ ...r, card: peer.makeCard(previous.keys, { issuedAtMs: Date.now() + 1000 }) }),
          { code: E.ERROR_CODE_INVALID_PEER_CARD, field: 'body.card.key_id', rule: 'rotation_new_key' },
        ],
        [
          'a card not newer than the pinned one',
          (r, previous, next) => ({ ...r, card: peer.makeCard(next, { issuedAtMs: issuedAt(previous) }) }),
          { code: E.ERROR_CODE_INVALID_PEER_CARD, field: 'body.card.issued_at_ms', rule: 'rotation_newer' },
        ],
        [
          'a card whose signature does not verify',
          (r) => ({ ...r, card: r.card && { ...r.card, signature: flip(r.card.signature) } }),
          { code: E.ERROR_CODE_INVALID_PEER_CARD, field: 'body.card.signature', rule: 'signature' },
        ],
        [
          'a card whose display name holds a terminal escape sequence',
          (r, _p, next) => ({ ...r, card: peer.makeCard(next, { displayName: 'FRA\u001b[2K\rFRA' }) }),
          { code: E.ERROR_CODE_INVALID_PEER_CARD, field: 'body.card.display_name', rule: 'control_character' },
        ],
      ];
      const pinned = peer.keySet;
      await ensureEach(
        'each broken rotation refused with the check 15.2 names',
        items,
        ([what]) => what,
        async ([, change, expected]) => {
          const next = participantKeys();
          const body = KeyRotation.encode(
            change(
              { card: peer.makeCard(next), previousKeyId: pinned.keyId, graceUntilMs: Date.now() + 60_000 },
              pinned,
              next,
            ),
          ).finish();
          const { sealed, outcome } = await sendKeyMessage(peer, K.MESSAGE_KIND_KEY_ROTATION, body, pinned);
          ensureRefused(
            outcome,
            { ...expected, receipt: 'rejected' },
            peer.receiptOf(sealed.header.messageId, sealed.digest),
          );
        },
      );
      ensureEqual(await pinnedKeyId(ctx, peer), pinned.keyId, 'the pinned key id after refused rotations');
    },
  },
  {
    id: 'keys.grace-ends',
    section: '15.2',
    feature: 'keys',
    cites: ['4.4'],
    title:
      'after the grace of a rotation the previous keys get the one refusal before authentication, byte for byte that of a sender never pinned (precise reason rotation_grace in the audit only)',
    async run(ctx) {
      const peer = await ctx.peer();
      const previous = await announceRotation(peer, 1500);
      await sleep(1800);
      const stranger = await ctx.peer({ pin: false });
      ensureOneRefusal([
        ['a sender never pinned', (await noticeWith(ctx, stranger, stranger.keySet)).outcome],
        ['a previous key after its grace', (await noticeWith(ctx, peer, previous)).outcome],
      ]);
    },
  },
  {
    id: 'keys.key-message-signed-by-grace-key',
    section: '15.2',
    feature: 'keys',
    title:
      'a KEY_ROTATION or KEY_REVOCATION sealed with previous keys still in their grace is INVALID_FIELD (header.sender_key_id, key_message_signer), with a receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const grace = await announceRotation(peer);
      const pinned = peer.keySet;
      const third = participantKeys();
      const messages: Array<[string, MessageKind, Uint8Array]> = [
        [
          'KEY_ROTATION',
          K.MESSAGE_KIND_KEY_ROTATION,
          KeyRotation.encode({
            card: peer.makeCard(third, { issuedAtMs: issuedAt(pinned) + 1 }),
            previousKeyId: pinned.keyId,
            graceUntilMs: Date.now() + 60_000,
          }).finish(),
        ],
        [
          'KEY_REVOCATION',
          K.MESSAGE_KIND_KEY_REVOCATION,
          KeyRevocation.encode({
            revokedKeyIds: [pinned.keyId],
            revokedAtMs: Date.now(),
            reason: 'signed by the grace key',
          }).finish(),
        ],
      ];
      await ensureEach(
        'key messages signed by a key in its grace refused',
        messages,
        ([what]) => what,
        async ([, kind, body]) => {
          const { sealed, outcome } = await sendKeyMessage(peer, kind, body, grace);
          ensureRefused(
            outcome,
            {
              code: E.ERROR_CODE_INVALID_FIELD,
              field: 'header.sender_key_id',
              rule: 'key_message_signer',
              receipt: 'rejected',
            },
            peer.receiptOf(sealed.header.messageId, sealed.digest),
          );
        },
      );
      ensureEqual(await pinnedKeyId(ctx, peer), pinned.keyId, 'the pinned key id');
    },
  },
  {
    id: 'keys.revocation',
    section: '15.3',
    feature: 'keys',
    cites: ['4.4'],
    title:
      'a KEY_REVOCATION signed with the pinned keys revokes the previous key for ever: its envelopes get the one refusal, byte for byte that of a sender never pinned (precise reason revoked_key in the audit only), and its card is never pinned again',
    async run(ctx) {
      const peer = await ctx.peer();
      const old = await rotateAndRevokePrevious(peer);
      const stranger = await ctx.peer({ pin: false });
      ensureOneRefusal([
        ['a sender never pinned', (await noticeWith(ctx, stranger, stranger.keySet)).outcome],
        ['a revoked key', (await noticeWith(ctx, peer, old)).outcome],
      ]);
      const repin = await ctx.call(
        ctx.target.authority.call('addPeer', {
          card: peer.makeCard(old.keys, { issuedAtMs: Date.now() + 1000 }),
          replaceKeys: true,
        }),
      );
      ensureRefused(repin, { code: E.ERROR_CODE_INVALID_PEER_CARD, field: 'card.key_id', rule: 'revoked_key' });
    },
  },
  {
    id: 'keys.revocation-survives-unpin',
    section: '2.4',
    cites: ['15.3'],
    feature: 'keys',
    title:
      'the key ids a participant revoked stay refused after RemovePeer: a card of a revoked key is INVALID_PEER_CARD (card.key_id, revoked_key) while it is unpinned, and after its current card is pinned again (with replace_keys too)',
    async run(ctx) {
      const peer = await ctx.peer();
      const old = await rotateAndRevokePrevious(peer);
      ensureOk(
        await ctx.call(ctx.target.authority.call('removePeer', { participantId: peer.participantId })),
        'RemovePeer',
      );
      const revoked = peer.makeCard(old.keys, { issuedAtMs: Date.now() + 1000 });
      const refusal: ExpectedRefusal = {
        code: E.ERROR_CODE_INVALID_PEER_CARD,
        field: 'card.key_id',
        rule: 'revoked_key',
      };
      ensureRefused(
        await ctx.call(ctx.target.authority.call('addPeer', { card: revoked, replaceKeys: false })),
        refusal,
      );
      ensureOk(
        await ctx.call(ctx.target.authority.call('addPeer', { card: peer.card, replaceKeys: false })),
        'AddPeer of the current card again',
      );
      ensureEqual(await pinnedKeyId(ctx, peer), peer.keyId, 'the pinned key id');
      ensureRefused(
        await ctx.call(ctx.target.authority.call('addPeer', { card: revoked, replaceKeys: true })),
        refusal,
      );
      const fresh = await noticeWith(ctx, peer, peer.keySet);
      ensureAccepted(fresh.outcome, peer.receiptOf(fresh.sealed.header.messageId, fresh.sealed.digest));
    },
  },
  {
    id: 'keys.revocation-of-signing-key',
    section: '15.3',
    feature: 'keys',
    title:
      'a KEY_REVOCATION naming the key that signs it is INVALID_FIELD (body.revoked_key_ids, not_signing_key), with a receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const body = KeyRevocation.encode({
        revokedKeyIds: [peer.keyId],
        revokedAtMs: Date.now(),
        reason: 'self',
      }).finish();
      const { sealed, outcome } = await sendKeyMessage(peer, K.MESSAGE_KIND_KEY_REVOCATION, body, peer.keySet);
      ensureRefused(
        outcome,
        {
          code: E.ERROR_CODE_INVALID_FIELD,
          field: 'body.revoked_key_ids',
          rule: 'not_signing_key',
          receipt: 'rejected',
        },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'keys.revocation-body-rules',
    section: '15.3',
    feature: 'keys',
    title:
      'a KEY_REVOCATION naming something that is not a key id is INVALID_FIELD (body.revoked_key_ids[i], key_id), one with a reason over 500 characters INVALID_FIELD (body.reason, max_length), both with a receipt and checked before not_signing_key',
    async run(ctx) {
      const peer = await ctx.peer();
      const items: Array<[string, KeyRevocation, ExpectedRefusal]> = [
        [
          'a revoked key id that is not a key id',
          { revokedKeyIds: [peer.keyId, 'not-a-key-id'], revokedAtMs: Date.now(), reason: 'compromised' },
          { code: E.ERROR_CODE_INVALID_FIELD, field: 'body.revoked_key_ids[1]', rule: 'key_id' },
        ],
        [
          'a reason of 501 characters',
          { revokedKeyIds: [peer.keyId], revokedAtMs: Date.now(), reason: 'r'.repeat(501) },
          { code: E.ERROR_CODE_INVALID_FIELD, field: 'body.reason', rule: 'max_length' },
        ],
      ];
      await ensureEach(
        'each revocation breaking a body rule refused as protocol 15.3 names it',
        items,
        ([what]) => what,
        async ([, revocation, expected]) => {
          const { sealed, outcome } = await sendKeyMessage(
            peer,
            K.MESSAGE_KIND_KEY_REVOCATION,
            KeyRevocation.encode(revocation).finish(),
            peer.keySet,
          );
          ensureRefused(
            outcome,
            { ...expected, receipt: 'rejected' },
            peer.receiptOf(sealed.header.messageId, sealed.digest),
          );
        },
      );
    },
  },
  {
    id: 'keys.node-rotation',
    section: '15.2',
    feature: 'keys',
    title:
      'RotateKeys announces the new card signed with the previous keys; within the grace envelopes to the previous keys are accepted with receipts of the previous key, and the new keys work at once',
    async run(ctx) {
      const node = await ctx.node();
      const peer = await node.peer();
      const before = node.target;
      const rotated = await before.authority.call('rotateKeys', { graceMs: 120_000 });
      const announcement = await peer.expect<KeyRotation>(K.MESSAGE_KIND_KEY_ROTATION, {
        context: 'protocol 15.2 step 4: a KEY_ROTATION to every pinned peer',
      });
      ensureEqual(
        announcement.header.senderKeyId,
        before.keyId,
        'sender_key_id of the announcement (the previous keys)',
      );
      ensureEqual(announcement.body.previousKeyId, before.keyId, 'previous_key_id');
      ensureEqual(announcement.body.graceUntilMs, rotated.graceUntilMs, 'grace_until_ms');
      // The reference node reads its clock twice (grace, then queueing): a second of slack.
      const drift = announcement.header.expiresAtMs - rotated.graceUntilMs;
      if (Math.abs(drift) > 1000)
        throw new CaseFailure(
          'expires_at_ms of the announcement = the end of the grace',
          `${drift} ms from grace_until_ms`,
          'protocol 15.2 step 4',
        );
      const card = announcement.body.card;
      if (!card) throw new CaseFailure('the new card in the announcement', 'none');
      let body: PeerCardBody;
      try {
        body = verifyCard(card, Date.now());
      } catch (error) {
        throw new CaseFailure('a new card that verifies (2.3)', (error as Error).message, 'protocol 15.2 step 2');
      }
      ensureEqual(
        [body.participantId, body.keyId],
        [before.participantId, rotated.keyId],
        'participant and key id of the new card',
      );
      if (body.issuedAtMs <= before.cardBody.issuedAtMs)
        throw new CaseFailure(
          'issued_at_ms greater than the previous card',
          String(body.issuedAtMs),
          'protocol 15.2 step 2',
        );
      // The port presents the new certificate: the suite's client follows the new card.
      await node.reconnect();
      ensureEqual(node.target.keyId, rotated.keyId, 'the key id GetNodeInfo gives after the rotation');
      // An envelope sealed to the previous keys (in flight, or from a peer that does not re-seal) is
      // accepted within the grace, with a receipt of the previous keys.
      const old = peer.seal({
        header: { recipientKeyId: before.keyId },
        pairKey: pairKey(
          peer.keys.encryptionSecretKey,
          peer.keys.encryptionPublicKey,
          before.cardBody.encryptionPublicKey,
        ),
      });
      const previousIssuer = {
        issuer: before.participantId,
        issuerKeyId: before.keyId,
        issuerSigningPublicKey: before.cardBody.signingPublicKey,
        sender: peer.participantId,
        messageId: old.header.messageId,
        digest: old.digest,
      };
      ensureAccepted(await node.host.deliverRaw(old.bytes), previousIssuer);
      const fresh = peer.seal();
      ensureAccepted(await node.host.deliverRaw(fresh.bytes), peer.receiptOf(fresh.header.messageId, fresh.digest));
    },
  },
  {
    id: 'keys.audit-after-rotation',
    section: '15.6',
    cites: ['8.6'],
    feature: 'keys',
    title:
      'after a rotation VerifyAudit checks each checkpoint with the key of its keyId: a log with checkpoints from before the rotation is intact',
    async run(ctx) {
      const node = await ctx.node();
      const peer = await node.peer();
      await sendAccepted(peer, K.MESSAGE_KIND_NOTICE, { subject: 'before', text: 'the rotation' }, 'protocol 4.10');
      // An orderly stop writes a checkpoint signed with the keys of the moment (8.3).
      await node.restart();
      await node.target.authority.call('rotateKeys', { graceMs: 60_000 });
      const announcement = await peer.expect(K.MESSAGE_KIND_KEY_ROTATION, { context: 'protocol 15.2 step 4' });
      // Verify a quiet log: once the announcement's receipt is stored, nothing more is being written.
      if (!(await listedAs(node, MessageDirection.MESSAGE_DIRECTION_SENT, announcement.header.messageId)))
        throw new CaseFailure(
          'the KEY_ROTATION listed as sent once the peer receipted it',
          'not listed',
          'protocol 5.5',
        );
      const { result } = await node.target.authority.call('verifyAudit', {});
      if (!result?.ok)
        throw new CaseFailure(
          'an intact audit log after the rotation',
          `broken at seq ${result?.firstBrokenSeq ?? '?'}: ${result?.reason ?? 'no result'}`,
        );
      if (result.checkpoints === 0)
        throw new CaseFailure('at least the checkpoint of the restart', 'no checkpoint checked');
    },
  },
];

/** The name of the federation of the suite's roster nodes (`federation.name`, 15.4): the rosters of its operators carry it. */
const FEDERATION = 'conformance';

/** A federation operator of the suite: its key signs rosters (15.4). */
interface Operator {
  readonly keys: ParticipantKeys;
  serial: number;
}

/** A roster member entry for `peer` with `keySets` (default: its current keys) and `revoked` key ids. */
function member(
  peer: FakePeer,
  keySets: ReadonlyArray<Pick<KeySet, 'keys' | 'keyId'>> = [peer.keySet],
  revoked: readonly string[] = [],
): RosterMember {
  return {
    participantId: peer.participantId,
    keys: keySets.map((k) => ({
      keyId: k.keyId,
      keysDigest: keysDigest(k.keys.signingPublicKey, k.keys.encryptionPublicKey),
    })),
    revokedKeyIds: [...revoked],
  };
}

/** A roster signed by `operator` with the next serial. */
function roster(
  operator: Operator,
  members: RosterMember[],
  expiresInMs = 86_400_000,
  changes: Partial<RosterBody> = {},
): Roster {
  operator.serial += 1;
  const now = Date.now();
  return signRoster(
    RosterBody.fromPartial({
      version: 1,
      federation: FEDERATION,
      serial: operator.serial,
      issuedAtMs: now,
      expiresAtMs: now + expiresInMs,
      members,
      ...changes,
    }),
    operator.keys.signingSecretKey,
  );
}

/** A node of the case's own that trusts a new operator's rosters. */
async function rosterNode(ctx: Parameters<ConformanceCase['run']>[0], rosterGraceMs?: number) {
  const operator: Operator = { keys: participantKeys(), serial: 0 };
  const node = await ctx.node({
    rosterKey: operator.keys.signingPublicKey,
    federation: FEDERATION,
    ...(rosterGraceMs !== undefined ? { rosterGraceMs } : {}),
  });
  return { node, operator };
}

/** A fake peer of `node`, not pinned (pinning goes through the roster). */
const unpinned = (node: NodeUnderTest) => node.peer({ pin: false });

const addPeer = (node: NodeUnderTest, peer: FakePeer) =>
  node.target.authority.call('addPeer', { card: peer.card, replaceKeys: false });
const loadRoster = (node: NodeUnderTest, r: Roster) => node.target.authority.call('loadRoster', { roster: r });

/** What a signed roster enforces on a node that trusts its operator (protocol 15.4, 15.5). */
export const ROSTER_CASES: ConformanceCase[] = [
  {
    id: 'roster.load-rules',
    section: '15.4',
    feature: 'keys',
    title:
      'LoadRoster refuses a roster signed by another key (roster_signature), expired (roster_expiry) or not newer than the installed one (roster_serial)',
    async run(ctx) {
      const { node, operator } = await rosterNode(ctx);
      const stranger: Operator = { keys: participantKeys(), serial: 10 };
      ensureRefused(await ctx.call(loadRoster(node, roster(stranger, []))), {
        code: E.ERROR_CODE_INVALID_FIELD,
        field: 'roster.signature',
        rule: 'roster_signature',
      });
      ensureRefused(await ctx.call(loadRoster(node, roster(operator, [], -1000))), {
        code: E.ERROR_CODE_INVALID_FIELD,
        field: 'roster.expires_at_ms',
        rule: 'roster_expiry',
      });
      ensureOk(await ctx.call(loadRoster(node, roster(operator, []))), 'LoadRoster of a valid roster');
      operator.serial -= 1;
      ensureRefused(await ctx.call(loadRoster(node, roster(operator, []))), {
        code: E.ERROR_CODE_INVALID_FIELD,
        field: 'roster.serial',
        rule: 'roster_serial',
      });
    },
  },
  {
    id: 'roster.membership',
    section: '15.5',
    feature: 'keys',
    title:
      "with a roster key, pinning needs a valid roster that lists the participant with the card's key: roster_missing, roster_member, roster_key",
    async run(ctx) {
      const { node, operator } = await rosterNode(ctx);
      const listed = await unpinned(node);
      const otherKey = await unpinned(node);
      const absent = await unpinned(node);
      ensureRefused(await ctx.call(addPeer(node, listed)), {
        code: E.ERROR_CODE_INVALID_PEER_CARD,
        field: 'roster',
        rule: 'roster_missing',
      });
      const elsewhere = participantKeys();
      ensureOk(
        await ctx.call(
          loadRoster(
            node,
            roster(operator, [member(listed), member(otherKey, [{ keys: elsewhere, keyId: keyIdOf(elsewhere) }])]),
          ),
        ),
        'LoadRoster',
      );
      ensureOk(await ctx.call(addPeer(node, listed)), 'AddPeer of a listed participant with a listed key');
      ensureRefused(await ctx.call(addPeer(node, otherKey)), {
        code: E.ERROR_CODE_INVALID_PEER_CARD,
        field: 'card.key_id',
        rule: 'roster_key',
      });
      ensureRefused(await ctx.call(addPeer(node, absent)), {
        code: E.ERROR_CODE_INVALID_PEER_CARD,
        field: 'card.participant_id',
        rule: 'roster_member',
      });
    },
  },
  {
    id: 'roster.envelopes',
    section: '15.5',
    feature: 'keys',
    cites: ['4.4'],
    title:
      'a pinned sender that a newer roster no longer lists, and one whose key it revokes, get the one refusal before authentication, byte for byte that of a sender never pinned (precise reasons roster_member, revoked_key in the audit only)',
    async run(ctx) {
      const { node, operator } = await rosterNode(ctx);
      const a = await unpinned(node);
      const b = await unpinned(node);
      ensureOk(await ctx.call(loadRoster(node, roster(operator, [member(a), member(b)]))), 'LoadRoster');
      for (const p of [a, b]) ensureOk(await ctx.call(addPeer(node, p)), `AddPeer ${p.participantId}`);
      const before = await noticeWith(node, a, a.keySet);
      ensureAccepted(before.outcome, a.receiptOf(before.sealed.header.messageId, before.sealed.digest));
      ensureOk(
        await ctx.call(loadRoster(node, roster(operator, [member(b, [b.keySet], [b.keyId])]))),
        'LoadRoster of a newer roster',
      );
      const stranger = await unpinned(node);
      ensureOneRefusal([
        ['a sender never pinned', (await noticeWith(node, stranger, stranger.keySet)).outcome],
        ['a sender the roster no longer lists', (await noticeWith(node, a, a.keySet)).outcome],
        ['a key the roster revokes', (await noticeWith(node, b, b.keySet)).outcome],
      ]);
    },
  },
  {
    id: 'roster.rotation-held',
    section: '15.2',
    cites: ['15.5'],
    feature: 'keys',
    title:
      'with a roster key, a KEY_ROTATION to a key the roster does not list is accepted but held: the new key gets the one refusal, the pinned one still works, until a roster lists the new key; then the rotation applies',
    async run(ctx) {
      const { node, operator } = await rosterNode(ctx);
      const peer = await unpinned(node);
      ensureOk(await ctx.call(loadRoster(node, roster(operator, [member(peer)]))), 'LoadRoster');
      ensureOk(await ctx.call(addPeer(node, peer)), 'AddPeer of a listed participant');
      const pinned = peer.keySet;
      await announceRotation(peer);
      const held = (await node.target.authority.call('listPeers', {})).peers.find(
        (p) => p.participantId === peer.participantId,
      );
      ensureEqual(
        [held?.keyId, held?.heldKeyId],
        [pinned.keyId, peer.keyId],
        'ListPeers key_id and held_key_id while the rotation is held',
      );
      const stranger = await unpinned(node);
      ensureOneRefusal([
        ['a sender never pinned', (await noticeWith(node, stranger, stranger.keySet)).outcome],
        ['the new key of a held rotation', (await noticeWith(node, peer, peer.keySet)).outcome],
      ]);
      const old = await noticeWith(node, peer, pinned);
      ensureAccepted(old.outcome, peer.receiptOf(old.sealed.header.messageId, old.sealed.digest));
      ensureOk(
        await ctx.call(loadRoster(node, roster(operator, [member(peer, [pinned, peer.keySet])]))),
        'LoadRoster of a roster listing the new key',
      );
      ensureEqual(await pinnedKeyId(node, peer), peer.keyId, 'the pinned key id once a roster lists the new key');
      const fresh = await noticeWith(node, peer, peer.keySet);
      ensureAccepted(fresh.outcome, peer.receiptOf(fresh.sealed.header.messageId, fresh.sealed.digest));
    },
  },
  {
    id: 'roster.other-federation',
    section: '15.4',
    feature: 'keys',
    title:
      "LoadRoster refuses a roster of another federation (roster.federation, roster_federation) or whose federation name has a control character (control_character), even signed by the node's operator",
    async run(ctx) {
      const { node, operator } = await rosterNode(ctx);
      const items: Array<[string, string, string]> = [
        ['another federation', `${FEDERATION}-other`, 'roster_federation'],
        ['the name in another case', FEDERATION.toUpperCase(), 'roster_federation'],
        ['a control character in the name', `${FEDERATION}\u001b[2J`, 'control_character'],
      ];
      await ensureEach(
        'each roster of another federation refused (protocol 15.4)',
        items,
        ([what]) => what,
        async ([, federation, rule]) => {
          ensureRefused(await ctx.call(loadRoster(node, roster(operator, [], 86_400_000, { federation }))), {
            code: E.ERROR_CODE_INVALID_FIELD,
            field: 'roster.federation',
            rule,
          });
        },
      );
      ensureEqual(
        (await node.target.authority.call('getRoster', {})).roster,
        undefined,
        'the installed roster after the refusals',
      );
    },
  },
  {
    id: 'roster.expiry-and-grace',
    section: '15.5',
    feature: 'keys',
    title:
      'an expired roster still lets pinned peers in during its grace but pins nobody new (roster_expired); once it lapses their envelopes get the one refusal (precise reason roster_expired in the audit only)',
    async run(ctx) {
      const graceMs = 1500;
      const { node, operator } = await rosterNode(ctx, graceMs);
      const a = await unpinned(node);
      const b = await unpinned(node);
      const expiresAt = Date.now() + 2500;
      ensureOk(
        await ctx.call(loadRoster(node, roster(operator, [member(a), member(b)], expiresAt - Date.now()))),
        'LoadRoster',
      );
      ensureOk(await ctx.call(addPeer(node, a)), 'AddPeer');
      await sleep(Math.max(0, expiresAt + 200 - Date.now()));
      const inGrace = await noticeWith(node, a, a.keySet);
      if (Date.now() < expiresAt + graceMs)
        ensureAccepted(inGrace.outcome, a.receiptOf(inGrace.sealed.header.messageId, inGrace.sealed.digest));
      ensureRefused(await ctx.call(addPeer(node, b)), {
        code: E.ERROR_CODE_INVALID_PEER_CARD,
        field: 'roster',
        rule: 'roster_expired',
      });
      await sleep(Math.max(0, expiresAt + graceMs + 200 - Date.now()));
      const lapsed = await noticeWith(node, a, a.keySet);
      ensureRefused(lapsed.outcome, NOT_AUTHENTICATED);
    },
  },
];

function issuedAt(keySet: KeySet): number {
  return PeerCardBody.decode(keySet.card.body).issuedAtMs;
}

function flip(bytes: Uint8Array): Buffer {
  const out = Buffer.from(bytes);
  out[0] = (out[0] ?? 0) ^ 0x01;
  return out;
}
