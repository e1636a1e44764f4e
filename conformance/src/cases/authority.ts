import { type Client, credentials, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { connect, type IncomingHttpHeaders } from 'node:http2';
import {
  AuthorityClient,
  ImportFormat,
  RecordsClient,
  type AuthorityServer,
  ErrorCode,
  ERROR_CODES,
  MessageDirection,
  MessageKind,
  type PeerCard,
  PeerCardBody,
  PeerPolicy,
  ReceiptBody,
  ReceiptStatus,
  ResendRequest,
  RpcStatus,
  STATUS_DETAILS_KEY,
  TracenetError,
  ERROR_DETAIL_TYPE_URL,
  errorCodeName,
  PROTO_FILES,
  PROTO_ROOT,
} from '@tracenet/proto';
import type { CaseContext, ConformanceCase } from '../case.js';
import {
  certificateSha256,
  createTlsIdentity,
  participantKeys,
  signCardBytes,
  signReceipt,
  signReceiptBytes,
  verifyCard,
} from '../codec/index.js';
import { serviceClient } from '../service-client.js';
import {
  CaseFailure,
  describe,
  ensureAccepted,
  ensureEach,
  ensureEqual,
  ensureOk,
  ensureOneRefusal,
  ensureRefused,
  type Outcome,
  wireError,
} from '../check.js';
import { announceRotation, listedAs, sleep, withInt64, withUnknownField } from '../fixtures.js';
import { type FakePeer, newMessageId, PeerHost, type ReceivedMessage } from '../fake-peer.js';

const E = ErrorCode;
const K = MessageKind;

/** An error whose ErrorDetail says `retryable` whatever its code: what a peer of a later revision may send (protocol 16.2). */
class RetryableInDetail extends TracenetError {
  override get retryable(): boolean {
    return true;
  }
}

/** The node's messages of one direction (`ListMessages`). */
async function messages(ctx: CaseContext, direction: MessageDirection) {
  return (await ctx.target.authority.call('listMessages', { direction, limit: 1000, cursor: '' })).messages;
}

/**
 * Every method of every `tracenet.v1` service the Authority port serves (protocol 7.4: all of the
 * package but `Federation`), read from the contract's .proto files, so that a method or service
 * added to the contract is covered without a list to keep in step.
 */
export function authorityMethods(): Array<{
  service: string;
  method: string;
  definition: MethodDefinition<object, object>;
}> {
  const definitions = loadSync([...PROTO_FILES], { includeDirs: [PROTO_ROOT] });
  const methods = new Map<string, { service: string; method: string; definition: MethodDefinition<object, object> }>();
  for (const [name, definition] of Object.entries(definitions)) {
    if (!name.startsWith('tracenet.v1.') || name === 'tracenet.v1.Federation' || 'format' in definition) continue;
    for (const [method, m] of Object.entries(definition as Record<string, MethodDefinition<object, object>>))
      methods.set(m.path, { service: name, method, definition: m });
  }
  return [...methods.values()];
}

/**
 * The methods called without a token: signing in (protocol 7.6). Every other method of the
 * Authority port needs one.
 */
const SIGN_IN_METHODS: ReadonlySet<string> = new Set([
  '/tracenet.v1.Access/Login',
  '/tracenet.v1.Access/BeginOidcSignIn',
  '/tracenet.v1.Access/CompleteOidcSignIn',
]);

const Raw = makeGenericClientConstructor({}, 'Authority');

/** Calls one method with an empty request (one empty message for streams) and `metadata`; the outcome as received. */
function callRaw(
  client: Client,
  m: MethodDefinition<object, object>,
  metadata: Metadata,
  deadlineMs: number,
): Promise<Outcome<unknown>> {
  const options = { deadline: Date.now() + deadlineMs };
  const serialize = (b: Buffer) => b;
  const deserialize = (b: Buffer) => b;
  const empty = Buffer.alloc(0);
  return new Promise((resolve) => {
    const done = (error: ServiceError | null, value?: unknown) =>
      resolve(error ? { ok: false, error: wireError(error) } : { ok: true, value });
    if (!m.requestStream && !m.responseStream) {
      client.makeUnaryRequest(m.path, serialize, deserialize, empty, metadata, options, (error) =>
        done(error, 'a response'),
      );
    } else if (!m.requestStream) {
      const stream = client.makeServerStreamRequest(m.path, serialize, deserialize, empty, metadata, options);
      stream.on('data', () => undefined);
      stream.on('error', (error: ServiceError) => done(error));
      stream.on('end', () => done(null, 'a stream that ended normally'));
    } else if (!m.responseStream) {
      const call = client.makeClientStreamRequest(m.path, serialize, deserialize, metadata, options, (error) =>
        done(error, 'a response'),
      );
      call.end();
    } else {
      const stream = client.makeBidiStreamRequest(m.path, serialize, deserialize, metadata, options);
      stream.on('data', () => undefined);
      stream.on('error', (error: ServiceError) => done(error));
      stream.on('end', () => done(null, 'a stream that ended normally'));
      stream.end();
    }
  });
}

/** The Authority API and peer cards (protocol 2, 5.3, 7) and the error wire format (9). */
export const AUTHORITY_CASES: ConformanceCase[] = [
  {
    id: 'authority.token-required',
    section: '7.1',
    feature: 'authority',
    title:
      'an Authority call with a wrong bearer token is UNAUTHORIZED (authorization, bearer_token) and has no effect',
    async run(ctx) {
      const client = serviceClient<AuthorityServer>(AuthorityClient, ctx.target.authorityAddress, 'not-the-token');
      try {
        const peer = ctx.host.createPeer();
        const outcome = await ctx.call(client.call('addPeer', { card: peer.card, replaceKeys: false }));
        ensureRefused(outcome, { code: E.ERROR_CODE_UNAUTHORIZED, field: 'authorization', rule: 'bearer_token' });
        const { peers } = await ctx.target.authority.call('listPeers', {});
        if (peers.some((p) => p.participantId === peer.participantId))
          throw new CaseFailure('no effect of a refused call', `${peer.participantId} was pinned`);
      } finally {
        client.close();
      }
    },
  },
  {
    id: 'authority.token-every-method',
    section: '7.1',
    feature: 'authority',
    title:
      'every method of every service on the Authority port, read from the .proto files, is UNAUTHORIZED (authorization, bearer_token) without a token and with a wrong one (signing in aside, 7.6)',
    async run(ctx) {
      const client = new Raw(ctx.target.authorityAddress, credentials.createInsecure());
      try {
        const methods = authorityMethods().filter((m) => !SIGN_IN_METHODS.has(m.definition.path));
        if (methods.length < 30)
          throw new CaseFailure(
            'the Authority services of the contract (protocol 7.4)',
            `${methods.length} methods found in the .proto files`,
          );
        const wrong = new Metadata();
        wrong.set('authorization', 'Bearer not-the-token');
        const calls = methods.flatMap((m) => [
          {
            what: `${m.definition.path} without a token`,
            outcome: callRaw(client, m.definition, new Metadata(), 5000),
          },
          { what: `${m.definition.path} with a wrong token`, outcome: callRaw(client, m.definition, wrong, 5000) },
        ]);
        const failures: string[] = [];
        for (const call of calls) {
          const outcome = await call.outcome;
          const detail = outcome.ok ? undefined : outcome.error.detail;
          if (
            detail?.code !== E.ERROR_CODE_UNAUTHORIZED ||
            detail.field !== 'authorization' ||
            detail.rule !== 'bearer_token'
          )
            failures.push(`${call.what}: ${describe(outcome)}`);
        }
        if (failures.length > 0)
          throw new CaseFailure(
            'UNAUTHORIZED (authorization, bearer_token) for every call without a valid token',
            failures.join('; '),
          );
      } finally {
        client.close();
      }
    },
  },
  {
    id: 'authority.token-before-request',
    section: '7.1',
    feature: 'authority',
    title:
      'a call without a token is refused UNAUTHORIZED from its metadata, at once, while its request message is still arriving: the node does not wait for (or buffer) the request of a caller without the token',
    async run(ctx) {
      const session = connect(`http://${ctx.target.authorityAddress}`);
      session.on('error', () => undefined);
      try {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/tracenet.v1.Authority/ListPeers',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('error', () => undefined);
        // A gRPC message announcing 1 KiB, of which 8 bytes are sent; the stream stays open.
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(1024, 1);
        stream.write(Buffer.concat([prefix, Buffer.alloc(8)]));
        const status = await new Promise<string | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), 3000);
          const take = (headers: IncomingHttpHeaders) => {
            if (headers['grpc-status'] === undefined) return;
            clearTimeout(timer);
            resolve(String(headers['grpc-status']));
          };
          stream.on('response', take);
          stream.on('trailers', take);
        });
        if (status !== '16') {
          throw new CaseFailure(
            'grpc-status 16 (UNAUTHENTICATED, the status of UNAUTHORIZED in errors.md) within 3 s, the request still incomplete',
            status === undefined ? 'no answer within 3 s' : `grpc-status ${status}`,
          );
        }
      } finally {
        session.destroy();
      }
    },
  },
  {
    id: 'authority.get-peer-card',
    section: '5.3',
    feature: 'authority',
    title:
      "Federation.GetPeerCard answers a client whose certificate a pinned card names with the node's current card, which verifies",
    async run(ctx) {
      // The suite's client presents the certificate of its fake peers' cards: pinning one admits it (2.5).
      await ctx.peer();
      const outcome = await ctx.host.getPeerCard();
      const { card } = ensureOk(outcome, 'GetPeerCard');
      if (!card) throw new CaseFailure('a card', 'none');
      let body;
      try {
        body = verifyCard(card, Date.now());
      } catch (error) {
        throw new CaseFailure('a card that verifies (protocol 2.3)', (error as Error).message);
      }
      ensureEqual(body.participantId, ctx.target.participantId, 'participant_id');
      ensureEqual(body.keyId, ctx.target.keyId, 'key_id');
    },
  },
  {
    id: 'authority.pin-self-refused',
    section: '2.4',
    feature: 'authority',
    title:
      "pinning the node's own card, or any card naming the node's participant id (other keys), is INVALID_PEER_CARD (card.participant_id, not_self); nothing is pinned",
    async run(ctx) {
      // A card of the node's participant id with other keys: the rule is about the id, not the keys.
      const impostor = ctx.host
        .createPeer()
        .makeCard(participantKeys(), { participantId: ctx.target.participantId, kind: ctx.target.cardBody.kind });
      const cards: Array<[string, PeerCard]> = [
        ["the node's own card", ctx.target.card],
        ["a card of the node's participant id with other keys", impostor],
      ];
      await ensureEach(
        "each card naming the node's own participant id refused at pinning (protocol 2.4)",
        cards,
        ([what]) => what,
        async ([, card]) => {
          ensureRefused(await ctx.call(ctx.target.authority.call('addPeer', { card, replaceKeys: false })), {
            code: E.ERROR_CODE_INVALID_PEER_CARD,
            field: 'card.participant_id',
            rule: 'not_self',
          });
        },
      );
      const { peers } = await ctx.target.authority.call('listPeers', {});
      if (peers.some((p) => p.participantId === ctx.target.participantId))
        throw new CaseFailure(
          `${ctx.target.participantId} not among the node's pinned peers`,
          'pinned',
          'protocol 2.4',
        );
    },
  },
  {
    id: 'authority.pin-bad-signature',
    section: '2.3',
    feature: 'authority',
    title: 'a card whose signature does not verify is INVALID_PEER_CARD (card.signature, signature)',
    async run(ctx) {
      const peer = ctx.host.createPeer();
      const signature = Buffer.from(peer.card.signature);
      signature[0] = (signature[0] ?? 0) ^ 0x01;
      ensureRefused(
        await ctx.call(
          ctx.target.authority.call('addPeer', { card: { body: peer.card.body, signature }, replaceKeys: false }),
        ),
        { code: E.ERROR_CODE_INVALID_PEER_CARD, field: 'card.signature', rule: 'signature' },
      );
    },
  },
  {
    id: 'authority.pin-control-characters',
    section: '2.3',
    feature: 'authority',
    title:
      'a card whose display name holds a control, format, bidirectional or line separator character is INVALID_PEER_CARD (card.display_name, control_character); the two joiners are allowed',
    async run(ctx) {
      const peer = ctx.host.createPeer();
      const refused: Array<[string, string]> = [
        ['ESC (a terminal escape sequence)', 'XAA\u001b[2J\u001b[1;1HFRA'],
        ['TAB', 'XAA\tFRA'],
        ['LF (a forged line)', 'XAA\nFRA  key 0123456789abcdef'],
        ['DEL', 'XAA\u007f'],
        ['U+009B CSI', 'XAA\u009b31m'],
        ['U+0085 NEXT LINE', 'XAA\u0085FRA'],
        ['U+202E RIGHT-TO-LEFT OVERRIDE', 'XAA\u202eARF'],
        ['U+2066 LEFT-TO-RIGHT ISOLATE', 'XAA\u2066FRA'],
        ['U+061C ARABIC LETTER MARK', 'XAA\u061c'],
        ['U+200B ZERO WIDTH SPACE', 'X\u200bAA'],
        ['U+00AD SOFT HYPHEN', 'X\u00adAA'],
        ['U+FEFF ZERO WIDTH NO-BREAK SPACE', '\ufeffXAA'],
        ['U+2028 LINE SEPARATOR', 'XAA\u2028FRA'],
        ['U+2029 PARAGRAPH SEPARATOR', 'XAA\u2029FRA'],
        ['U+E0041 TAG LATIN CAPITAL LETTER A (outside the BMP)', 'XAA\u{e0041}'],
      ];
      await ensureEach(
        'each card with such a character in its display name refused at pinning (protocol 2.3 check 4)',
        refused,
        ([what]) => what,
        async ([, displayName]) => {
          const outcome = await ctx.call(
            ctx.target.authority.call('addPeer', {
              card: peer.makeCard(peer.keys, { displayName }),
              replaceKeys: false,
            }),
          );
          ensureRefused(outcome, {
            code: E.ERROR_CODE_INVALID_PEER_CARD,
            field: 'card.display_name',
            rule: 'control_character',
          });
        },
      );
      // Persian needs the joiners: U+200C ZERO WIDTH NON-JOINER in "می‌خواهم", U+200D in emoji.
      const displayName = 'می\u200cخواهم \u{1f469}\u200d\u{1f52c}';
      ensureOk(
        await ctx.call(
          ctx.target.authority.call('addPeer', { card: peer.makeCard(peer.keys, { displayName }), replaceKeys: false }),
        ),
        'AddPeer of a card whose display name has the two joiners',
      );
      const pinned = (await ctx.target.authority.call('listPeers', {})).peers.find(
        (p) => p.participantId === peer.participantId,
      );
      ensureEqual(pinned?.displayName, displayName, 'the pinned display name');
    },
  },
  {
    id: 'authority.pin-wrong-fingerprint',
    section: '2.3',
    feature: 'authority',
    title:
      'a card whose tls_certificate_sha256 is not the SHA-256 of its tls_certificate (one bit changed, or the hash of another certificate) is INVALID_PEER_CARD (card.tls_certificate_sha256, fingerprint); nothing is pinned',
    async run(ctx) {
      const peer = ctx.host.createPeer();
      const der = ctx.host.tls.certificateDer;
      const flipped = certificateSha256(der);
      flipped[31] = (flipped[31] ?? 0) ^ 0x01;
      const other = (await createTlsIdentity('conformance other certificate', 86_400_000)).certificateDer;
      const cards: Array<[string, PeerCard]> = [
        ['a fingerprint with one bit changed', peer.makeCard(peer.keys, { tlsCertificateSha256: flipped })],
        [
          "the fingerprint of another certificate than the card's",
          peer.makeCard(peer.keys, { tlsCertificateSha256: certificateSha256(other) }),
        ],
      ];
      await ensureEach(
        'each card whose certificate fingerprint does not match refused at pinning (protocol 2.3 check 7)',
        cards,
        ([what]) => what,
        async ([, card]) => {
          ensureRefused(await ctx.call(ctx.target.authority.call('addPeer', { card, replaceKeys: false })), {
            code: E.ERROR_CODE_INVALID_PEER_CARD,
            field: 'card.tls_certificate_sha256',
            rule: 'fingerprint',
          });
        },
      );
      await ensureNotPinned(ctx, peer.participantId);
    },
  },
  {
    id: 'authority.pin-card-validity',
    section: '2.3',
    feature: 'authority',
    title:
      'a card is verified only when valid_from_ms <= now < valid_until_ms: one valid from an hour ahead, and one whose validity ended, are INVALID_PEER_CARD (card.valid_until_ms, validity); nothing is pinned',
    async run(ctx) {
      const peer = ctx.host.createPeer();
      const now = Date.now();
      const hour = 3_600_000;
      const cards: Array<[string, PeerCard]> = [
        [
          'valid from an hour ahead',
          peer.makeCard(peer.keys, { issuedAtMs: now, validFromMs: now + hour, validUntilMs: now + 2 * hour }),
        ],
        [
          'valid until a minute ago',
          peer.makeCard(peer.keys, {
            issuedAtMs: now - 2 * hour,
            validFromMs: now - 2 * hour,
            validUntilMs: now - 60_000,
          }),
        ],
      ];
      await ensureEach(
        'each card outside its validity refused at pinning (protocol 2.3 check 9)',
        cards,
        ([what]) => what,
        async ([, card]) => {
          ensureRefused(await ctx.call(ctx.target.authority.call('addPeer', { card, replaceKeys: false })), {
            code: E.ERROR_CODE_INVALID_PEER_CARD,
            field: 'card.valid_until_ms',
            rule: 'validity',
          });
        },
      );
      await ensureNotPinned(ctx, peer.participantId);
    },
  },
  {
    id: 'authority.pin-card-unknown-field',
    section: '16.2',
    cites: ['2.3'],
    feature: 'authority',
    title:
      'a card whose signed body carries a field of a later revision verifies and is pinned, and its holder is accepted',
    async run(ctx) {
      const peer = ctx.host.createPeer();
      const card = signCardBytes(withUnknownField(peer.card.body), peer.keys.signingSecretKey);
      ensureOk(
        await ctx.call(ctx.target.authority.call('addPeer', { card, replaceKeys: false })),
        'AddPeer of a card with a field of a later revision',
      );
      const sealed = peer.seal();
      ensureAccepted(await ctx.host.deliverRaw(sealed.bytes), peer.receiptOf(sealed.header.messageId, sealed.digest));
    },
  },
  {
    id: 'authority.remove-peer',
    section: '2.4',
    cites: ['4.4'],
    feature: 'authority',
    title:
      "after RemovePeer the peer's envelopes get the one refusal, byte for byte that of a sender never pinned; removing it again is NOT_FOUND (participant_id, pinned_peer); pinned again, it is accepted again",
    async run(ctx) {
      const peer = await ctx.peer();
      const before = peer.seal();
      ensureAccepted(await ctx.host.deliverRaw(before.bytes), peer.receiptOf(before.header.messageId, before.digest));
      const removed = ensureOk(
        await ctx.call(ctx.target.authority.call('removePeer', { participantId: peer.participantId })),
        'RemovePeer of a pinned peer',
      );
      ensureEqual(
        [removed.peer?.participantId, removed.peer?.keyId],
        [peer.participantId, peer.keyId],
        'the card RemovePeer names',
      );
      const stranger = await ctx.peer({ pin: false });
      ensureOneRefusal([
        ['a sender never pinned', await ctx.host.deliverRaw(stranger.seal().bytes)],
        ['a sender removed', await ctx.host.deliverRaw(peer.seal().bytes)],
      ]);
      const listed = (await ctx.target.authority.call('listPeers', {})).peers.some(
        (p) => p.participantId === peer.participantId,
      );
      ensureEqual(listed, false, `${peer.participantId} in ListPeers after RemovePeer`);
      ensureRefused(await ctx.call(ctx.target.authority.call('removePeer', { participantId: peer.participantId })), {
        code: E.ERROR_CODE_NOT_FOUND,
        field: 'participant_id',
        rule: 'pinned_peer',
      });
      ensureRefused(await ctx.call(ctx.target.authority.call('removePeer', { participantId: '' })), {
        code: E.ERROR_CODE_MISSING_FIELD,
        field: 'participant_id',
      });
      ensureOk(
        await ctx.call(ctx.target.authority.call('addPeer', { card: peer.card, replaceKeys: false })),
        'AddPeer of the same card again',
      );
      const after = peer.seal();
      ensureAccepted(await ctx.host.deliverRaw(after.bytes), peer.receiptOf(after.header.messageId, after.digest));
    },
  },
  {
    id: 'authority.pin-other-keys-refused',
    section: '2.4',
    feature: 'authority',
    title: 'a card of a pinned participant with other keys is INVALID_PEER_CARD (card.key_id, pinned_key)',
    async run(ctx) {
      const peer = await ctx.peer();
      const impostor = ctx.host.createPeer({ participantId: peer.participantId, keys: participantKeys() });
      ensureRefused(await ctx.call(ctx.target.authority.call('addPeer', { card: impostor.card, replaceKeys: false })), {
        code: E.ERROR_CODE_INVALID_PEER_CARD,
        field: 'card.key_id',
        rule: 'pinned_key',
      });
    },
  },
  {
    id: 'authority.pin-same-keys-not-newer',
    section: '2.4',
    feature: 'authority',
    title:
      'a card of the pinned keys replaces the pinned one only with a greater issued_at_ms: the same or an earlier issued_at_ms keeps it (replaced = false), a later one replaces it (replaced = true)',
    async run(ctx) {
      const peer = await ctx.peer();
      const issuedAtMs = PeerCardBody.decode(peer.card.body).issuedAtMs;
      const pinnedName = async () =>
        (await ctx.target.authority.call('listPeers', {})).peers.find((p) => p.participantId === peer.participantId)
          ?.displayName;
      const first = await pinnedName();
      const kept: Array<[string, number]> = [
        ['the same issued_at_ms', issuedAtMs],
        ['an earlier issued_at_ms', issuedAtMs - 1000],
      ];
      await ensureEach(
        'the pinned card kept for a card of the same keys that is not newer (protocol 2.4)',
        kept,
        ([what]) => what,
        async ([what, at]) => {
          const card = peer.makeCard(peer.keys, {
            issuedAtMs: at,
            validFromMs: issuedAtMs - 60_000,
            displayName: `not newer: ${what}`,
          });
          const answer = ensureOk(
            await ctx.call(ctx.target.authority.call('addPeer', { card, replaceKeys: false })),
            'AddPeer of a card of the pinned keys',
          );
          ensureEqual(answer.replaced, false, 'replaced');
          ensureEqual(await pinnedName(), first, 'the pinned display name');
        },
      );
      const newer = peer.makeCard(peer.keys, {
        issuedAtMs: issuedAtMs + 1000,
        validFromMs: issuedAtMs - 60_000,
        displayName: 'newer',
      });
      const answer = ensureOk(
        await ctx.call(ctx.target.authority.call('addPeer', { card: newer, replaceKeys: false })),
        'AddPeer of a newer card of the pinned keys',
      );
      ensureEqual(answer.replaced, true, 'replaced (a greater issued_at_ms)');
      ensureEqual(await pinnedName(), 'newer', 'the pinned display name');
    },
  },
  {
    id: 'authority.policy-for-unpinned',
    section: '7.2',
    feature: 'authority',
    title: 'SetPeerPolicy for a participant that is not pinned is NOT_FOUND (policy.participant_id, pinned_peer)',
    async run(ctx) {
      const outcome = await ctx.call(
        ctx.target.authority.call('setPeerPolicy', {
          policy: PeerPolicy.fromPartial({ participantId: ctx.host.freshId(), acceptRequests: true }),
        }),
      );
      ensureRefused(outcome, { code: E.ERROR_CODE_NOT_FOUND, field: 'policy.participant_id', rule: 'pinned_peer' });
    },
  },
  {
    id: 'authority.verify-audit',
    section: '8.6',
    feature: 'authority',
    title: "VerifyAudit finds the node's audit log intact after the suite's traffic",
    async run(ctx) {
      const { result } = await ctx.target.authority.call('verifyAudit', {});
      if (!result?.ok)
        throw new CaseFailure(
          'an intact audit log (ok)',
          `broken at seq ${result?.firstBrokenSeq ?? '?'}: ${result?.reason ?? 'no result'}`,
        );
      if (result.entries === 0) throw new CaseFailure('audit entries for the traffic of the suite', 'none');
    },
  },
  {
    id: 'authority.import-format-fixed',
    section: '11.5',
    feature: 'authority',
    title:
      'an ImportRecords stream whose later message names another format ends with INVALID_FIELD (format, import_stream); nothing of it is imported',
    async run(ctx) {
      const client = new RecordsClient(ctx.target.authorityAddress, credentials.createInsecure());
      const serial = `IMP-${newMessageId()
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 10)}`;
      try {
        const metadata = new Metadata();
        metadata.set('authorization', `Bearer ${ctx.target.token}`);
        const outcome = await new Promise<Outcome<unknown>>((resolve) => {
          const stream = client.importRecords(metadata, { deadline: Date.now() + 10_000 });
          stream.on('data', () => undefined);
          stream.on('error', (error: ServiceError) => resolve({ ok: false, error: wireError(error) }));
          stream.on('end', () => resolve({ ok: true, value: 'the stream ended normally' }));
          stream.write({ format: ImportFormat.IMPORT_FORMAT_CSV, dryRun: false, chunk: Buffer.alloc(0) });
          stream.write({
            format: ImportFormat.IMPORT_FORMAT_JSONL,
            dryRun: false,
            chunk: Buffer.from(`type,manufacturer,serial_number\npistol,Conformance Arms,${serial}\n`),
          });
          stream.end();
        });
        ensureRefused(outcome, { code: E.ERROR_CODE_INVALID_FIELD, field: 'format', rule: 'import_stream' });
        const { records } = await ctx.target.records.call('searchRecords', {
          query: { manufacturer: '', serialNumber: serial, model: '', calibre: '', type: 0 },
          serialOnly: true,
          limit: 10,
        });
        ensureEqual(records.length, 0, 'records imported from the refused message');
      } finally {
        client.close();
      }
    },
  },
  {
    id: 'errors.wire-format',
    section: '9.2',
    feature: 'authority',
    title:
      'a refusal is a gRPC status of its code with grpc-message "<CODE>: …" and exactly one ErrorDetail in grpc-status-details-bin',
    async run(ctx) {
      const stranger = await ctx.peer({ pin: false });
      const outcome = await ctx.host.deliverRaw(stranger.seal().bytes);
      if (outcome.ok) throw new CaseFailure('a refusal (UNKNOWN_SENDER)', describe(outcome));
      const { raw, grpcCode, grpcMessage, detail } = outcome.error;
      const code = E.ERROR_CODE_UNKNOWN_SENDER;
      ensureEqual(grpcCode, ERROR_CODES[code].grpc, 'gRPC status');
      if (!grpcMessage.startsWith(`${errorCodeName(code)}: `))
        throw new CaseFailure(`grpc-message starting with "${errorCodeName(code)}: "`, JSON.stringify(grpcMessage));
      const trailer = raw.metadata.get(STATUS_DETAILS_KEY)[0];
      if (!(trailer instanceof Buffer)) throw new CaseFailure(`a ${STATUS_DETAILS_KEY} trailer`, 'none');
      const status = RpcStatus.decode(trailer);
      ensureEqual(status.code, grpcCode, 'google.rpc.Status.code');
      ensureEqual(
        status.details.map((d) => d.typeUrl),
        [ERROR_DETAIL_TYPE_URL],
        'google.rpc.Status.details type urls',
      );
      ensureEqual(detail?.retryable, ERROR_CODES[code].retryable, 'ErrorDetail.retryable');
      if (!detail?.message) throw new CaseFailure('ErrorDetail.message', 'empty');
    },
  },
];

/** Fails unless `participantId` is absent from the node's `ListPeers` (a refused pin wrote nothing). */
async function ensureNotPinned(ctx: CaseContext, participantId: string): Promise<void> {
  const { peers } = await ctx.target.authority.call('listPeers', {});
  if (peers.some((p) => p.participantId === participantId))
    throw new CaseFailure('no effect of a refused AddPeer', `${participantId} is pinned`);
}

/** Waits for `count` attempts of the node to deliver to `peer` (each consumed), in order. */
async function attemptsOf(
  peer: FakePeer,
  count: number,
  context: string,
  timeoutMs = 8000,
): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  for (let i = 0; i < count; i += 1)
    out.push(await peer.expect(K.MESSAGE_KIND_NOTICE, { timeoutMs, context: `${context} (attempt ${i + 1})` }));
  return out;
}

/** Fails unless `retry` is `first` sealed anew: the same message id and body, a new digest, a creation time not earlier (5.5). */
function ensureResealed(first: ReceivedMessage, retry: ReceivedMessage, messageId: string): void {
  ensureEqual(first.header.messageId, messageId, 'message id of the first attempt');
  ensureEqual(retry.header.messageId, messageId, 'message id of the retry');
  if (
    retry.digest.equals(first.digest) ||
    retry.header.createdAtMs < first.header.createdAtMs ||
    !retry.bodyBytes.equals(first.bodyBytes)
  ) {
    throw new CaseFailure(
      'a retry sealed anew with the same body and a fresh creation time',
      'the same envelope, another body or an older seal',
      'protocol 5.5',
    );
  }
}

/** Another message id than the one `message` carries, of the same form. */
function newMessageIdLike(message: ReceivedMessage): string {
  return `${message.header.messageId.slice(0, -1)}${message.header.messageId.endsWith('A') ? 'B' : 'A'}`;
}

/**
 * The node sends a notice to `peer`, whose responder answers the first `attempts - 1` attempts
 * with something that is no proof of delivery (5.4): the node must make attempt `attempts`, and
 * only the accepted one moves the message to sent.
 */
async function unprovenIsRetried(ctx: CaseContext, peer: FakePeer, attempts: number): Promise<void> {
  const { messageId } = await ctx.target.authority.call('sendNotice', {
    recipient: peer.participantId,
    subject: 'proof',
    text: 'of delivery',
    correlationId: '',
  });
  const seen = await attemptsOf(
    peer,
    attempts,
    'protocol 5.4: a success answer that is no proof of delivery is retried',
  );
  for (let i = 1; i < seen.length; i += 1)
    ensureResealed(seen[i - 1] as ReceivedMessage, seen[i] as ReceivedMessage, messageId);
  if (!(await listedAs(ctx, MessageDirection.MESSAGE_DIRECTION_SENT, messageId)))
    throw new CaseFailure(`${messageId} listed as sent`, 'not listed', 'protocol 5.5');
  await peer.expectNothing(300, 'protocol 5.5: delivered once, nothing more');
}

/** The node as a sender (protocol 5.4, 5.5): outbox, receipts, retries. */
export const OUTBOUND_CASES: ConformanceCase[] = [
  {
    id: 'outbound.notice-delivered',
    section: '5.5',
    feature: 'outbound',
    title:
      'SendNotice delivers a correct envelope to the peer; with a valid ACCEPTED receipt the message moves to sent',
    async run(ctx) {
      const peer = await ctx.peer();
      const { messageId } = await ctx.target.authority.call('sendNotice', {
        recipient: peer.participantId,
        subject: 'hello',
        text: 'from the node under test',
        correlationId: '',
      });
      const received = await peer.expect<{ subject: string }>(K.MESSAGE_KIND_NOTICE);
      ensureEqual(received.header.messageId, messageId, 'message id');
      ensureEqual(received.body.subject, 'hello', 'subject');
      for (
        let i = 0;
        i < 40 &&
        !(await messages(ctx, MessageDirection.MESSAGE_DIRECTION_SENT)).some((m) => m.messageId === messageId);
        i += 1
      )
        await sleep(50);
      if (!(await messages(ctx, MessageDirection.MESSAGE_DIRECTION_SENT)).some((m) => m.messageId === messageId))
        throw new CaseFailure(`${messageId} listed as sent`, 'not listed', 'protocol 5.5');
    },
  },
  {
    id: 'outbound.resend-request',
    section: '5.6',
    feature: 'outbound',
    title:
      'a RESEND_REQUEST is receipted; the node delivers again, under their original ids, the messages it sent the requester whose receipt it stored since since_ms, and none for a since_ms after them',
    async run(ctx) {
      const peer = await ctx.peer();
      const sent: string[] = [];
      for (const subject of ['first', 'second']) {
        const { messageId } = await ctx.target.authority.call('sendNotice', {
          recipient: peer.participantId,
          subject,
          text: 'to be delivered again',
          correlationId: '',
        });
        await peer.expect(K.MESSAGE_KIND_NOTICE, { where: (m) => m.header.messageId === messageId });
        if (!(await listedAs(ctx, MessageDirection.MESSAGE_DIRECTION_SENT, messageId)))
          throw new CaseFailure(`${messageId} listed as sent`, 'not listed', 'protocol 5.5');
        sent.push(messageId);
      }
      // The copies are answered DUPLICATE by the fake peer (it has them): they are in `received`, not in its inbox.
      const copiesAfter = (count: number) =>
        peer.received
          .slice(count)
          .filter((m) => m.kind === K.MESSAGE_KIND_NOTICE)
          .map((m) => m.header.messageId);
      const ask = async (sinceMs: number) => {
        const before = peer.received.length;
        const outcome = await peer.host.deliverRaw(
          peer.seal({ kind: K.MESSAGE_KIND_RESEND_REQUEST, body: ResendRequest.encode({ sinceMs }).finish() }).bytes,
        );
        if (!outcome.ok)
          throw new CaseFailure('the RESEND_REQUEST accepted with a receipt', describe(outcome), 'protocol 5.6');
        return before;
      };
      const none = await ask(Date.now() + 86_400_000);
      await sleep(500);
      ensureEqual(
        copiesAfter(none).join(' '),
        '',
        'messages delivered again for a since_ms a day ahead (protocol 5.6)',
      );
      const all = await ask(0);
      for (let i = 0; i < 80 && copiesAfter(all).length < sent.length; i += 1) await sleep(100);
      await sleep(300);
      ensureEqual(
        copiesAfter(all).sort().join(' '),
        [...sent].sort().join(' '),
        'message ids delivered again, each once (protocol 5.6: the original ids)',
      );
    },
  },
  {
    id: 'outbound.long-correlation-id-refused',
    section: '7.2',
    feature: 'outbound',
    title:
      'SendNotice with a correlation id over 64 characters is INVALID_FIELD (correlation_id, max_length) and nothing is queued or sent',
    async run(ctx) {
      const peer = await ctx.peer();
      const outcome = await ctx.call(
        ctx.target.authority.call('sendNotice', {
          recipient: peer.participantId,
          subject: 's',
          text: 't',
          correlationId: 'c'.repeat(65),
        }),
      );
      ensureRefused(outcome, { code: E.ERROR_CODE_INVALID_FIELD, field: 'correlation_id', rule: 'max_length' });
      await peer.expectNothing(300, 'protocol 7.2');
    },
  },
  {
    id: 'outbound.correlation-id-visible-ascii',
    section: '3.2',
    cites: ['7.2'],
    feature: 'outbound',
    title:
      'SendNotice with a correlation id holding a space, a control or a bidirectional character is INVALID_FIELD (correlation_id, visible_ascii) and nothing is queued or sent',
    async run(ctx) {
      const peer = await ctx.peer();
      const refused: Array<[string, string]> = [
        ['a space', 'case 2026'],
        ['a line break (a forged log line)', 'case\nlevel=error msg=forged'],
        ['ESC', '\u001b[2Jcase'],
        ['U+202E RIGHT-TO-LEFT OVERRIDE', 'case\u202e6202'],
      ];
      const before = (await messages(ctx, MessageDirection.MESSAGE_DIRECTION_OUTBOX)).length;
      await ensureEach(
        'each such correlation id refused before anything is queued (protocol 3.2)',
        refused,
        ([what]) => what,
        async ([, correlationId]) => {
          const outcome = await ctx.call(
            ctx.target.authority.call('sendNotice', {
              recipient: peer.participantId,
              subject: 's',
              text: 't',
              correlationId,
            }),
          );
          ensureRefused(outcome, { code: E.ERROR_CODE_INVALID_FIELD, field: 'correlation_id', rule: 'visible_ascii' });
        },
      );
      ensureEqual(
        (await messages(ctx, MessageDirection.MESSAGE_DIRECTION_OUTBOX)).length,
        before,
        'messages in the outbox',
      );
      await peer.expectNothing(300, 'protocol 3.2');
    },
  },
  {
    id: 'outbound.rejected-ends-message',
    section: '5.5',
    feature: 'outbound',
    title: 'a message the peer rejects with a valid REJECTED receipt fails for good with its code and is not retried',
    async run(ctx) {
      const peer = await ctx.peer();
      peer.responder = () =>
        new TracenetError(E.ERROR_CODE_KIND_NOT_ALLOWED, 'the fake peer does not take notices', {
          field: 'header.kind',
          rule: 'peer_policy',
        });
      const { messageId } = await ctx.target.authority.call('sendNotice', {
        recipient: peer.participantId,
        subject: 'one',
        text: 'rejected',
        correlationId: '',
      });
      await peer.expect(K.MESSAGE_KIND_NOTICE);
      await peer.expectNothing(900, 'protocol 5.5: no retry after a valid REJECTED receipt');
      const failed = await messages(ctx, MessageDirection.MESSAGE_DIRECTION_FAILED);
      const entry = failed.find((m) => m.messageId === messageId);
      if (!entry) throw new CaseFailure(`${messageId} listed as failed`, 'not listed', 'protocol 5.5');
      ensureEqual(entry.lastError, 'KIND_NOT_ALLOWED', 'last_error');
    },
  },
  {
    id: 'outbound.unknown-error-code',
    section: '16.2',
    cites: ['9.4', '5.5'],
    feature: 'outbound',
    title:
      'an error code the node does not know ends the message for good, not retried: in a REJECTED receipt, and without receipt even when its ErrorDetail says retryable',
    async run(ctx) {
      const peer = await ctx.peer();
      const later = 999 as ErrorCode;
      peer.responder = (message) =>
        (message.body as { subject?: string }).subject === 'with receipt'
          ? new TracenetError(later, 'a code of a later revision')
          : new RetryableInDetail(later, 'a code of a later revision, said to be retryable');
      const ids: string[] = [];
      for (const subject of ['with receipt', 'without receipt']) {
        ids.push(
          (
            await ctx.target.authority.call('sendNotice', {
              recipient: peer.participantId,
              subject,
              text: 'answered with an unknown code',
              correlationId: '',
            })
          ).messageId,
        );
        await peer.expect(K.MESSAGE_KIND_NOTICE);
      }
      await peer.expectNothing(900, 'protocol 16.2: a code the node does not know is not retried');
      for (const [i, id] of ids.entries()) {
        if (!(await listedAs(ctx, MessageDirection.MESSAGE_DIRECTION_FAILED, id)))
          throw new CaseFailure(
            `${id} (${i === 0 ? 'REJECTED receipt' : 'no receipt, retryable in the detail'}) listed as failed`,
            'not listed',
            'protocol 16.2',
          );
      }
    },
  },
  {
    id: 'outbound.bad-receipt-retried',
    section: '5.4',
    feature: 'outbound',
    title:
      'a receipt that does not verify is no proof of delivery: the node retries the same message id with a new seal',
    async run(ctx) {
      const peer = await ctx.peer();
      let attempts = 0;
      peer.responder = (message, digest) => {
        attempts += 1;
        if (attempts > 1) return 'default';
        // Signed with a key that is not the peer's: the node must not take it as proof.
        return signReceipt(
          ReceiptBody.fromPartial({
            version: 1,
            issuer: peer.participantId,
            issuerKeyId: peer.keyId,
            sender: message.header.sender,
            messageId: message.header.messageId,
            envelopeDigest: digest,
            receivedAtMs: Date.now(),
            status: 1,
          }),
          participantKeys().signingSecretKey,
        );
      };
      const { messageId } = await ctx.target.authority.call('sendNotice', {
        recipient: peer.participantId,
        subject: 'retry',
        text: 'me',
        correlationId: '',
      });
      const first = await peer.expect(K.MESSAGE_KIND_NOTICE);
      const second = await peer.expect(K.MESSAGE_KIND_NOTICE, {
        timeoutMs: 8000,
        context: 'protocol 5.4: a success answer that fails verification is retried',
      });
      ensureEqual(second.header.messageId, messageId, 'message id of the retry');
      if (
        second.header.createdAtMs < first.header.createdAtMs ||
        Buffer.compare(Buffer.from(second.bodyBytes), Buffer.from(first.bodyBytes)) !== 0
      ) {
        throw new CaseFailure(
          'a retry sealed anew with the same body and a fresh creation time',
          'another body or an older seal',
          'protocol 5.5',
        );
      }
    },
  },
  {
    id: 'outbound.refused-once-retried',
    section: '5.5',
    cites: ['3.5'],
    feature: 'outbound',
    title:
      'after a retryable refusal without receipt the node retries the same message id with a new seal, and the accepted retry moves it to sent',
    async run(ctx) {
      const peer = await ctx.peer();
      let attempts = 0;
      peer.responder = () =>
        ++attempts === 1 ? new TracenetError(E.ERROR_CODE_UNAVAILABLE, 'the fake peer is busy') : 'default';
      const { messageId } = await ctx.target.authority.call('sendNotice', {
        recipient: peer.participantId,
        subject: 'once',
        text: 'refused once',
        correlationId: '',
      });
      const [first, second] = await attemptsOf(peer, 2, 'protocol 5.5: a retryable refusal is retried');
      ensureResealed(first as ReceivedMessage, second as ReceivedMessage, messageId);
      if (!(await listedAs(ctx, MessageDirection.MESSAGE_DIRECTION_SENT, messageId)))
        throw new CaseFailure(`${messageId} listed as sent`, 'not listed', 'protocol 5.5');
      await peer.expectNothing(300, 'protocol 5.5: delivered once, nothing more');
    },
  },
  {
    id: 'outbound.retry-fresh-creation-time',
    section: '5.5',
    feature: 'outbound',
    title:
      'a retry after a refusal is sealed anew with created_at_ms = the time of the retry (its creation times as far apart as the attempts, clock offset aside) and the same expires_at_ms',
    async run(ctx) {
      const peer = await ctx.peer();
      const holdMs = 2000;
      let attempts = 0;
      // The first attempt is refused (retryable) only after holdMs: the retry is sealed at least holdMs later.
      peer.responder = () =>
        ++attempts === 1
          ? { delayMs: holdMs, then: new TracenetError(E.ERROR_CODE_UNAVAILABLE, 'the fake peer is busy') }
          : 'default';
      const { messageId } = await ctx.target.authority.call('sendNotice', {
        recipient: peer.participantId,
        subject: 'fresh',
        text: 'sealed anew',
        correlationId: '',
      });
      const [first, retry] = (await attemptsOf(
        peer,
        2,
        'protocol 5.5: a retryable refusal is retried',
        holdMs + 8000,
      )) as [ReceivedMessage, ReceivedMessage];
      ensureResealed(first, retry, messageId);
      // Both differences are read on one clock each: the node's offset from the suite's cancels out.
      const sealedApart = retry.header.createdAtMs - first.header.createdAtMs;
      const arrivedApart = retry.receivedAtMs - first.receivedAtMs;
      const slackMs = 1000;
      if (sealedApart < arrivedApart - slackMs) {
        throw new CaseFailure(
          `created_at_ms of the retry about ${arrivedApart} ms after that of the first attempt, as the attempts were (created_at_ms = now at each attempt)`,
          `${sealedApart} ms after`,
        );
      }
      ensureEqual(retry.header.expiresAtMs, first.header.expiresAtMs, 'expires_at_ms of the retry (fixed at queueing)');
      if (!(await listedAs(ctx, MessageDirection.MESSAGE_DIRECTION_SENT, messageId)))
        throw new CaseFailure(`${messageId} listed as sent`, 'not listed', 'protocol 5.5');
    },
  },
  {
    id: 'outbound.receipt-held-past-deadline',
    section: '5.5',
    feature: 'outbound',
    title:
      'a peer that takes a message but answers after the attempt deadline gets a retry, and its DUPLICATE receipt with the original proves delivery',
    async run(ctx) {
      const peer = await ctx.peer();
      let attempts = 0;
      peer.responder = () =>
        ++attempts === 1 ? { delayMs: ctx.settings.attemptTimeoutMs + 1500, then: 'default' } : 'default';
      const { messageId } = await ctx.target.authority.call('sendNotice', {
        recipient: peer.participantId,
        subject: 'held',
        text: 'answered late',
        correlationId: '',
      });
      const copies = () => peer.received.filter((m) => m.header.messageId === messageId);
      if (!(await peer.until(() => copies().length >= 2, ctx.settings.attemptTimeoutMs + 8000))) {
        throw new CaseFailure(
          `a retry after outbox.attemptTimeoutMs (${ctx.settings.attemptTimeoutMs} ms) without answer`,
          `${copies().length} attempt(s)`,
          'protocol 5.5',
        );
      }
      peer.inbox.length = 0;
      ensureResealed(copies()[0] as ReceivedMessage, copies()[1] as ReceivedMessage, messageId);
      if (!(await listedAs(ctx, MessageDirection.MESSAGE_DIRECTION_SENT, messageId)))
        throw new CaseFailure(
          `${messageId} listed as sent after a valid DUPLICATE receipt with its ACCEPTED original`,
          'not listed',
          'protocol 5.4',
        );
    },
  },
  {
    id: 'outbound.receipt-for-another-seal',
    section: '5.4',
    feature: 'outbound',
    title:
      "a valid ACCEPTED receipt naming the digest of an earlier seal of the message is no proof of this attempt's delivery: the node retries",
    async run(ctx) {
      const peer = await ctx.peer();
      const digests: Buffer[] = [];
      peer.responder = (message, digest) => {
        digests.push(digest);
        if (digests.length === 1) return new TracenetError(E.ERROR_CODE_UNAVAILABLE, 'the fake peer is busy');
        if (digests.length === 2)
          return peer.signReceipt(
            message.header,
            digests[0] as Buffer,
            Date.now(),
            ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
          );
        return 'default';
      };
      await unprovenIsRetried(ctx, peer, 3);
    },
  },
  {
    id: 'outbound.receipt-for-another-message',
    section: '5.4',
    feature: 'outbound',
    title: 'a valid ACCEPTED receipt for this envelope that names another message id is no proof: the node retries',
    async run(ctx) {
      const peer = await ctx.peer();
      let attempts = 0;
      peer.responder = (message, digest) =>
        ++attempts === 1
          ? peer.signReceipt(
              { ...message.header, messageId: newMessageIdLike(message) },
              digest,
              Date.now(),
              ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
            )
          : 'default';
      await unprovenIsRetried(ctx, peer, 2);
    },
  },
  {
    id: 'outbound.receipt-of-another-issuer',
    section: '5.4',
    feature: 'outbound',
    title:
      "a receipt whose issuer is not the recipient is no proof and ends nothing: an ACCEPTED and a REJECTED receipt signed with the recipient's key but naming another pinned participant as issuer, and one signed by that participant, are each retried",
    async run(ctx) {
      const peer = await ctx.peer();
      const other = await ctx.peer();
      const rejection = new TracenetError(E.ERROR_CODE_KIND_NOT_ALLOWED, 'rejected in the name of another issuer');
      // issuer_key_id names the recipient's key, which signs: only the issuer field is wrong.
      const naming = (
        issuer: FakePeer,
        signer: FakePeer,
        message: ReceivedMessage,
        digest: Buffer,
        status: ReceiptStatus,
      ) =>
        signReceipt(
          ReceiptBody.fromPartial({
            version: 1,
            issuer: issuer.participantId,
            issuerKeyId: signer.keyId,
            sender: message.header.sender,
            messageId: message.header.messageId,
            envelopeDigest: digest,
            receivedAtMs: Date.now(),
            status,
            ...(status === ReceiptStatus.RECEIPT_STATUS_REJECTED
              ? { errorCode: rejection.code, errorMessage: rejection.message }
              : {}),
          }),
          signer.keys.signingSecretKey,
        );
      let attempts = 0;
      peer.responder = (message, digest) => {
        attempts += 1;
        if (attempts === 1) return naming(other, peer, message, digest, ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
        if (attempts === 2)
          return new TracenetError(rejection.code, rejection.message, {
            field: 'header.kind',
            rule: 'peer_policy',
            receipt: naming(other, peer, message, digest, ReceiptStatus.RECEIPT_STATUS_REJECTED),
          });
        if (attempts === 3) return naming(other, other, message, digest, ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
        return 'default';
      };
      await unprovenIsRetried(ctx, peer, 4);
    },
  },
  {
    id: 'outbound.duplicate-without-original',
    section: '5.4',
    feature: 'outbound',
    title: 'a DUPLICATE receipt without the original ACCEPTED receipt is no proof: the node retries',
    async run(ctx) {
      const peer = await ctx.peer();
      let attempts = 0;
      peer.responder = (message, digest) =>
        ++attempts === 1
          ? peer.signReceipt(message.header, digest, Date.now(), ReceiptStatus.RECEIPT_STATUS_DUPLICATE)
          : 'default';
      await unprovenIsRetried(ctx, peer, 2);
    },
  },
  {
    id: 'outbound.receipt-unsafe-integer',
    section: '0',
    cites: ['5.4'],
    feature: 'outbound',
    title:
      'an ACCEPTED receipt whose received_at_ms is 2^53 (beyond ±(2^53 − 1)) does not verify and proves nothing: the node retries',
    async run(ctx) {
      const peer = await ctx.peer();
      let attempts = 0;
      peer.responder = (message, digest) => {
        if (++attempts > 1) return 'default';
        const body = ReceiptBody.fromPartial({
          version: 1,
          issuer: peer.participantId,
          issuerKeyId: peer.keyId,
          sender: message.header.sender,
          messageId: message.header.messageId,
          envelopeDigest: digest,
          receivedAtMs: Date.now(),
          status: ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
        });
        return signReceiptBytes(withInt64(ReceiptBody.encode(body).finish(), 7, 2n ** 53n), peer.keys.signingSecretKey);
      };
      await unprovenIsRetried(ctx, peer, 2);
    },
  },
  {
    id: 'outbound.receipt-of-previous-key',
    section: '5.4',
    cites: ['15.2'],
    feature: 'keys',
    title:
      "after a peer's rotation, receipts it remembered from before, signed with its previous key in grace, still count: the ACCEPTED original of a DUPLICATE proves delivery, a REJECTED receipt ends the message",
    async run(ctx) {
      const peer = await ctx.peer();
      const previous = await announceRotation(peer);
      peer.responder = (message, digest) => {
        const now = Date.now();
        if ((message.body as { subject?: string }).subject === 'rejected') {
          // A remembered rejection (4.6): its receipt is the one signed back then, with the previous key.
          const failure = new TracenetError(E.ERROR_CODE_KIND_NOT_ALLOWED, 'rejected before the rotation');
          return new TracenetError(failure.code, failure.message, {
            rule: 'rejected_before',
            receipt: peer.signReceipt(
              message.header,
              digest,
              now,
              ReceiptStatus.RECEIPT_STATUS_REJECTED,
              failure,
              undefined,
              previous,
            ),
          });
        }
        const original = peer.signReceipt(
          message.header,
          digest,
          now,
          ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
          undefined,
          undefined,
          previous,
        );
        return peer.signReceipt(
          message.header,
          digest,
          now,
          ReceiptStatus.RECEIPT_STATUS_DUPLICATE,
          undefined,
          original,
        );
      };
      const accepted = await ctx.target.authority.call('sendNotice', {
        recipient: peer.participantId,
        subject: 'duplicate',
        text: 'accepted before the rotation',
        correlationId: '',
      });
      await peer.expect(K.MESSAGE_KIND_NOTICE);
      if (!(await listedAs(ctx, MessageDirection.MESSAGE_DIRECTION_SENT, accepted.messageId))) {
        throw new CaseFailure(
          `${accepted.messageId} listed as sent: a DUPLICATE whose ACCEPTED original is signed with the previous key in grace proves delivery`,
          'not listed',
        );
      }
      const rejected = await ctx.target.authority.call('sendNotice', {
        recipient: peer.participantId,
        subject: 'rejected',
        text: 'rejected before the rotation',
        correlationId: '',
      });
      await peer.expect(K.MESSAGE_KIND_NOTICE);
      if (!(await listedAs(ctx, MessageDirection.MESSAGE_DIRECTION_FAILED, rejected.messageId))) {
        throw new CaseFailure(
          `${rejected.messageId} listed as failed: a REJECTED receipt signed with the previous key in grace ends the message`,
          'not listed',
        );
      }
      await peer.expectNothing(300, 'protocol 5.4: no retry of a proven or ended message');
    },
  },
  {
    id: 'outbound.receipt-of-previous-key-after-grace',
    section: '5.4',
    cites: ['15.2'],
    feature: 'keys',
    title:
      "once the grace of a peer's rotation has ended, a DUPLICATE whose original is signed with the previous key proves nothing: the node retries",
    async run(ctx) {
      const peer = await ctx.peer();
      const previous = await announceRotation(peer, 1000);
      await sleep(1300);
      let attempts = 0;
      peer.responder = (message, digest) => {
        if (++attempts > 1) return 'default';
        const original = peer.signReceipt(
          message.header,
          digest,
          Date.now(),
          ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
          undefined,
          undefined,
          previous,
        );
        return peer.signReceipt(
          message.header,
          digest,
          Date.now(),
          ReceiptStatus.RECEIPT_STATUS_DUPLICATE,
          undefined,
          original,
        );
      };
      await unprovenIsRetried(ctx, peer, 2);
    },
  },
  {
    id: 'outbound.pinned-certificate',
    section: '2.5',
    feature: 'outbound',
    title:
      'the node does not deliver to a peer whose server presents another certificate than the one its pinned card names: the message stays queued',
    async run(ctx) {
      const impostor = await PeerHost.start(ctx.target, { replayWindowMs: ctx.settings.replayWindowMs });
      try {
        // Its id comes from the suite's host, which knows every id pinned so far; the impostor host
        // does not know the ids pinned after it started, so one of its own could be taken later.
        const peer = impostor.createPeer({ participantId: ctx.host.freshId() });
        // The card pins the suite's usual certificate; the server at its endpoint presents another one.
        const pinned = ctx.host.tls.certificateDer;
        const card = peer.makeCard(peer.keys, {
          tlsCertificate: pinned,
          tlsCertificateSha256: certificateSha256(pinned),
        });
        await ctx.target.authority.call('addPeer', { card, replaceKeys: false });
        const { messageId } = await ctx.target.authority.call('sendNotice', {
          recipient: peer.participantId,
          subject: 'pinned',
          text: 'certificate',
          correlationId: '',
        });
        await sleep(2000);
        if (peer.received.length > 0)
          throw new CaseFailure(
            'no delivery over a connection whose certificate is not the pinned one',
            `${peer.received.length} envelope(s) delivered`,
          );
        if (await listedAs(ctx, MessageDirection.MESSAGE_DIRECTION_SENT, messageId, 0))
          throw new CaseFailure(`${messageId} not sent`, 'listed as sent');
        if (!(await listedAs(ctx, MessageDirection.MESSAGE_DIRECTION_OUTBOX, messageId, 0)))
          throw new CaseFailure(`${messageId} still queued (retryable transport failure, 5.5)`, 'not in the outbox');
      } finally {
        await impostor.stop();
      }
    },
  },
];
