import { status as GrpcStatus } from '@grpc/grpc-js';
import { Envelope, EnvelopeHeader, ErrorCode, MessageKind, Notice, PeerCardBody } from '@tracenet/proto';
import type { ConformanceCase } from '../case.js';
import { pairKey as derivePairKey, participantKeys, randomBytes, sodium } from '../codec/index.js';
import {
  CaseFailure,
  ensureAccepted,
  ensureEach,
  ensureOneRefusal,
  ensureRefused,
  NOT_AUTHENTICATED,
} from '../check.js';
import { type FakePeer, newMessageId, type SealedEnvelope } from '../fake-peer.js';
import {
  encodeBody,
  reencode,
  sleep,
  traceRequest,
  unauthenticatedEnvelopes,
  withInt64,
  withUnknownField,
} from '../fixtures.js';

const E = ErrorCode;

/** An envelope built field by field, without sealing (for the structure checks of step 2). */
function rawEnvelope(header: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array): Buffer {
  return Buffer.from(
    Envelope.encode({
      header: Buffer.from(header),
      nonce: Buffer.from(nonce),
      ciphertext: Buffer.from(ciphertext),
    }).finish(),
  );
}

const notice = (subject: string, text: string) => Buffer.from(Notice.encode({ subject, text }).finish());

/**
 * Another valid proto3 encoding of a header (protocol 0, "bytes as received"): each field encoded
 * on its own, in reverse field order. A decoder reads the same header; a re-encoding differs.
 */
function reversedHeaderBytes(header: EnvelopeHeader): Buffer {
  const fields = (Object.keys(header) as Array<keyof EnvelopeHeader>).map((name) =>
    Buffer.from(EnvelopeHeader.encode(EnvelopeHeader.fromPartial({ [name]: header[name] })).finish()),
  );
  return Buffer.concat(fields.reverse());
}

/**
 * A correct trace request from `peer` sealed into an envelope of exactly `size` bytes: photos of at
 * most 1 MiB each (12.2), the last one grown or shrunk until the sealed envelope has the size.
 */
function exactlySized(peer: FakePeer, size: number): SealedEnvelope {
  const base = traceRequest();
  const sealWith = (last: number) => {
    const photos = [];
    let left = size - 32 * 1024;
    for (; left > 1024 * 1024; left -= 1024 * 1024)
      photos.push({ mediaType: 'image/png', content: Buffer.alloc(1024 * 1024, photos.length + 1), caption: '' });
    photos.push({ mediaType: 'image/png', content: Buffer.alloc(left + last, photos.length + 1), caption: '' });
    const body = encodeBody(MessageKind.MESSAGE_KIND_TRACE_REQUEST, { ...base, weapon: { ...base.weapon, photos } });
    return peer.seal({ kind: MessageKind.MESSAGE_KIND_TRACE_REQUEST, body, messageId: newMessageId() });
  };
  // The length of a varint may change with the photo's: a few rounds settle it.
  let extra = 0;
  for (let round = 0; round < 8; round += 1) {
    const sealed = sealWith(extra);
    if (sealed.bytes.length === size) return sealed;
    extra += size - sealed.bytes.length;
  }
  throw new Error(`no envelope of exactly ${size} bytes could be built`);
}

/**
 * Envelope processing of `Federation.Deliver` (protocol 3 and 4): size, structure, header fields,
 * addressing and pinning, header authentication, time, signature and body — every tampering and
 * every refusal with its code, field, rule and receipt rule.
 */
export const ENVELOPE_CASES: ConformanceCase[] = [
  {
    id: 'envelope.valid-notice',
    section: '4.10',
    feature: 'envelope',
    title: 'a correct Notice from a pinned peer is accepted with a signed ACCEPTED receipt for its digest',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal();
      ensureAccepted(await ctx.host.deliverRaw(sealed.bytes), peer.receiptOf(sealed.header.messageId, sealed.digest));
    },
  },
  {
    id: 'envelope.oversize',
    section: '4.2',
    feature: 'envelope',
    title: 'a request above max_envelope_bytes is refused with ENVELOPE_TOO_LARGE before parsing',
    async run(ctx) {
      // Not a protobuf at all: a node that parses first answers MALFORMED instead.
      const junk = Buffer.alloc(ctx.settings.maxEnvelopeBytes + 1, 0xff);
      const outcome = await ctx.host.deliverRaw(junk);
      // Its gRPC layer may refuse it as soon as the length prefix arrives, without detail (protocol 5.1, 9.3).
      if (!outcome.ok && !outcome.error.detail && outcome.error.grpcCode === GrpcStatus.RESOURCE_EXHAUSTED) return;
      ensureRefused(outcome, { code: E.ERROR_CODE_ENVELOPE_TOO_LARGE, rule: 'max_envelope_bytes', receipt: 'none' });
    },
  },
  {
    id: 'envelope.malformed',
    section: '4.3',
    feature: 'envelope',
    title: 'bytes that are not an Envelope are MALFORMED (envelope, protobuf)',
    async run(ctx) {
      ensureRefused(await ctx.host.deliverRaw(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01])), {
        code: E.ERROR_CODE_MALFORMED,
        field: 'envelope',
        rule: 'protobuf',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.missing-nonce',
    section: '4.3',
    feature: 'envelope',
    title: 'an envelope without nonce is MISSING_FIELD (envelope.nonce)',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal();
      ensureRefused(await ctx.host.deliverRaw(reencode(sealed.envelope, (c) => (c.nonce = Buffer.alloc(0)))), {
        code: E.ERROR_CODE_MISSING_FIELD,
        field: 'envelope.nonce',
        rule: 'required',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.short-nonce',
    section: '4.3',
    feature: 'envelope',
    title: 'a nonce that is not 24 bytes is INVALID_FIELD (envelope.nonce, length)',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal();
      ensureRefused(await ctx.host.deliverRaw(reencode(sealed.envelope, (c) => (c.nonce = c.nonce.subarray(0, 12)))), {
        code: E.ERROR_CODE_INVALID_FIELD,
        field: 'envelope.nonce',
        rule: 'length',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.short-ciphertext',
    section: '4.3',
    feature: 'envelope',
    title: 'a ciphertext shorter than its tag is INVALID_FIELD (envelope.ciphertext, length)',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal();
      ensureRefused(
        await ctx.host.deliverRaw(reencode(sealed.envelope, (c) => (c.ciphertext = c.ciphertext.subarray(0, 15)))),
        {
          code: E.ERROR_CODE_INVALID_FIELD,
          field: 'envelope.ciphertext',
          rule: 'length',
          receipt: 'none',
        },
      );
    },
  },
  {
    id: 'envelope.malformed-header',
    section: '4.3',
    feature: 'envelope',
    title: 'a header that is not an EnvelopeHeader is MALFORMED (envelope.header)',
    async run(ctx) {
      ensureRefused(
        await ctx.host.deliverRaw(
          rawEnvelope(Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f]), Buffer.alloc(24, 1), Buffer.alloc(32, 2)),
        ),
        {
          code: E.ERROR_CODE_MALFORMED,
          field: 'envelope.header',
          rule: 'protobuf',
          receipt: 'none',
        },
      );
    },
  },
  {
    id: 'envelope.unsupported-version',
    section: '4.3',
    cites: ['16.2'],
    feature: 'envelope',
    title: 'header version 2 is UNSUPPORTED_VERSION',
    async run(ctx) {
      const peer = await ctx.peer();
      ensureRefused(await ctx.host.deliverRaw(peer.seal({ header: { version: 2 } }).bytes), {
        code: E.ERROR_CODE_UNSUPPORTED_VERSION,
        field: 'header.version',
        rule: 'version',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.missing-message-id',
    section: '4.3',
    feature: 'envelope',
    title: 'a header without message id is MISSING_FIELD (header.message_id)',
    async run(ctx) {
      const peer = await ctx.peer();
      ensureRefused(await ctx.host.deliverRaw(peer.seal({ header: { messageId: '' } }).bytes), {
        code: E.ERROR_CODE_MISSING_FIELD,
        field: 'header.message_id',
        rule: 'required',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.invalid-sender-id',
    section: '4.3',
    feature: 'envelope',
    title: 'a sender that is not a participant id is INVALID_FIELD (header.sender, participant_id)',
    async run(ctx) {
      const peer = await ctx.peer();
      ensureRefused(await ctx.host.deliverRaw(peer.seal({ header: { sender: 'fra' } }).bytes), {
        code: E.ERROR_CODE_INVALID_FIELD,
        field: 'header.sender',
        rule: 'participant_id',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.invalid-message-id',
    section: '4.3',
    feature: 'envelope',
    title: 'a message id outside ^[A-Za-z0-9_-]{16,64}$ is INVALID_FIELD (header.message_id, message_id)',
    async run(ctx) {
      const peer = await ctx.peer();
      ensureRefused(await ctx.host.deliverRaw(peer.seal({ header: { messageId: 'short-id' } }).bytes), {
        code: E.ERROR_CODE_INVALID_FIELD,
        field: 'header.message_id',
        rule: 'message_id',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.unknown-kind',
    section: '4.3',
    cites: ['16.2'],
    feature: 'envelope',
    title: 'a kind the receiver does not know is INVALID_FIELD (header.kind, known_kind) before authentication',
    async run(ctx) {
      const peer = await ctx.peer();
      ensureRefused(await ctx.host.deliverRaw(peer.seal({ header: { kind: 999 as MessageKind } }).bytes), {
        code: E.ERROR_CODE_INVALID_FIELD,
        field: 'header.kind',
        rule: 'known_kind',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.unknown-fields',
    section: '16.2',
    cites: ['0'],
    feature: 'envelope',
    title:
      'a header and a body that carry a field of a later revision are read as without it: the notice is accepted, its receipt names the envelope as sent',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal({
        body: withUnknownField(notice('later', 'a notice with a field of a later revision')),
        headerBytes: (header) => withUnknownField(EnvelopeHeader.encode(header).finish()),
      });
      ensureAccepted(await ctx.host.deliverRaw(sealed.bytes), peer.receiptOf(sealed.header.messageId, sealed.digest));
    },
  },
  {
    id: 'envelope.undecodable-sealed-content',
    section: '4.5',
    cites: ['4.1'],
    feature: 'envelope',
    title:
      'a ciphertext that authenticates but whose plaintext is no SealedContent is MALFORMED (sealed, protobuf) without receipt, and nothing is remembered: a correct seal of the same message id is accepted',
    async run(ctx) {
      const peer = await ctx.peer();
      const header = peer.header();
      const headerBytes = Buffer.from(EnvelopeHeader.encode(header).finish());
      const nonce = randomBytes(24);
      // Field 1, length-delimited, announcing 255 bytes that never come: no protobuf decoder reads it.
      const plaintext = Buffer.from([0x0a, 0xff]);
      const ciphertext = Buffer.from(
        sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, headerBytes, null, nonce, peer.pairKey()),
      );
      ensureRefused(await ctx.host.deliverRaw(rawEnvelope(headerBytes, nonce, ciphertext)), {
        code: E.ERROR_CODE_MALFORMED,
        field: 'sealed',
        rule: 'protobuf',
        receipt: 'none',
      });
      const sealed = peer.seal({ messageId: header.messageId });
      ensureAccepted(await ctx.host.deliverRaw(sealed.bytes), peer.receiptOf(header.messageId, sealed.digest));
    },
  },
  {
    id: 'envelope.expiry-before-creation',
    section: '4.3',
    feature: 'envelope',
    title: 'expires_at_ms not after created_at_ms is INVALID_FIELD (header.expires_at_ms, after_created)',
    async run(ctx) {
      const peer = await ctx.peer();
      const now = Date.now();
      ensureRefused(await ctx.host.deliverRaw(peer.seal({ createdAtMs: now, expiresAtMs: now }).bytes), {
        code: E.ERROR_CODE_INVALID_FIELD,
        field: 'header.expires_at_ms',
        rule: 'after_created',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.long-correlation-id',
    section: '4.3',
    feature: 'envelope',
    title: 'a correlation id of 65 characters is INVALID_FIELD (header.correlation_id, max_length)',
    async run(ctx) {
      const peer = await ctx.peer();
      ensureRefused(await ctx.host.deliverRaw(peer.seal({ correlationId: 'c'.repeat(65) }).bytes), {
        code: E.ERROR_CODE_INVALID_FIELD,
        field: 'header.correlation_id',
        rule: 'max_length',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.correlation-id-visible-ascii',
    section: '4.3',
    cites: ['3.2'],
    feature: 'envelope',
    title:
      'a correlation id with a space, a control, bidirectional or format character, or a letter of another script is INVALID_FIELD (header.correlation_id, visible_ascii), without receipt; 64 visible ASCII characters are accepted',
    async run(ctx) {
      const peer = await ctx.peer();
      const refused: Array<[string, string]> = [
        ['a space', 'case 2026'],
        ['a line break', 'case\n2026'],
        ['ESC (a terminal escape sequence)', '\u001b[31mcase'],
        ['DEL', 'case\u007f'],
        ['U+202E RIGHT-TO-LEFT OVERRIDE', 'case\u202e6202'],
        ['U+200B ZERO WIDTH SPACE', 'case\u200b2026'],
        ['U+0430 CYRILLIC SMALL LETTER A', 'c\u0430se-2026'],
        ['U+00E9 LATIN SMALL LETTER E WITH ACUTE', 'r\u00e9f-2026'],
      ];
      await ensureEach(
        'each correlation id that is not visible ASCII refused (protocol 3.2, 4.3 item 11)',
        refused,
        ([what]) => what,
        async ([, correlationId]) => {
          ensureRefused(await ctx.host.deliverRaw(peer.seal({ correlationId }).bytes), {
            code: E.ERROR_CODE_INVALID_FIELD,
            field: 'header.correlation_id',
            rule: 'visible_ascii',
            receipt: 'none',
          });
        },
      );
      const visible = '!"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~'.padEnd(64, 'x');
      const sealed = peer.seal({ correlationId: visible });
      ensureAccepted(await ctx.host.deliverRaw(sealed.bytes), peer.receiptOf(sealed.header.messageId, sealed.digest));
    },
  },
  {
    id: 'envelope.unsafe-integer',
    section: '0',
    cites: ['4.3'],
    feature: 'envelope',
    title:
      'a created_at_ms or expires_at_ms beyond ±(2^53 − 1) is INVALID_FIELD naming the field (safe_integer), before authentication, never rounded',
    async run(ctx) {
      const peer = await ctx.peer();
      const items: Array<[string, number, bigint, string]> = [
        ['created_at_ms = 2^53', 6, 2n ** 53n, 'header.created_at_ms'],
        ['expires_at_ms = 2^63 − 1', 7, 2n ** 63n - 1n, 'header.expires_at_ms'],
        ['created_at_ms = −2^53', 6, -(2n ** 53n), 'header.created_at_ms'],
      ];
      await ensureEach(
        'each header integer beyond ±(2^53 − 1) refused naming its field (protocol 0, 4.3 item 4)',
        items,
        ([what]) => what,
        async ([, field, value, path]) => {
          const sealed = peer.seal({
            headerBytes: (header) => withInt64(EnvelopeHeader.encode(header).finish(), field, value),
          });
          ensureRefused(await ctx.host.deliverRaw(sealed.bytes), {
            code: E.ERROR_CODE_INVALID_FIELD,
            field: path,
            rule: 'safe_integer',
            receipt: 'none',
          });
        },
      );
    },
  },
  {
    id: 'envelope.wrong-recipient',
    section: '4.4',
    feature: 'envelope',
    title: 'an envelope addressed to another participant is WRONG_RECIPIENT (header.recipient), without receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const other = ctx.host.freshId();
      ensureRefused(await ctx.host.deliverRaw(peer.seal({ header: { recipient: other } }).bytes), {
        code: E.ERROR_CODE_WRONG_RECIPIENT,
        field: 'header.recipient',
        rule: 'recipient',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.wrong-recipient-key',
    section: '4.4',
    feature: 'envelope',
    title:
      'an envelope sealed to another key id of the recipient is not authenticated: the one refusal (UNKNOWN_SENDER, rule authentication, no field)',
    async run(ctx) {
      const peer = await ctx.peer();
      ensureRefused(
        await ctx.host.deliverRaw(peer.seal({ header: { recipientKeyId: '0123456789abcdef' } }).bytes),
        NOT_AUTHENTICATED,
      );
    },
  },
  {
    id: 'envelope.unpinned-sender',
    section: '4.4',
    feature: 'envelope',
    title:
      'a correct envelope from a participant that is not pinned is the one refusal (UNKNOWN_SENDER, rule authentication, no field), retryable, without receipt',
    async run(ctx) {
      const stranger = await ctx.peer({ pin: false });
      const outcome = await ctx.host.deliverRaw(stranger.seal().bytes);
      ensureRefused(outcome, NOT_AUTHENTICATED);
      if (!outcome.ok && outcome.error.detail && !outcome.error.detail.retryable) {
        throw new CaseFailure(
          'ErrorDetail.retryable = true for UNKNOWN_SENDER (errors.md)',
          'retryable = false',
          'protocol 9.2',
        );
      }
    },
  },
  {
    id: 'envelope.sender-key-mismatch',
    section: '4.4',
    feature: 'envelope',
    title: "a sender key id other than the pinned card's is the one refusal, as for a sender that is not pinned",
    async run(ctx) {
      const peer = await ctx.peer();
      ensureRefused(
        await ctx.host.deliverRaw(peer.seal({ header: { senderKeyId: 'fedcba9876543210' } }).bytes),
        NOT_AUTHENTICATED,
      );
    },
  },
  {
    id: 'envelope.expired-sender-card',
    section: '4.4',
    feature: 'envelope',
    title: 'after the pinned card of the sender expired its envelopes get the one refusal',
    async run(ctx) {
      const peer = await ctx.peer({ validForMs: 1500 });
      await sleep(Math.max(0, PeerCardBody.decode(peer.card.body).validUntilMs + 200 - Date.now()));
      ensureRefused(await ctx.host.deliverRaw(peer.seal().bytes), NOT_AUTHENTICATED);
    },
  },
  {
    id: 'envelope.one-refusal',
    section: '4.4',
    cites: ['4.5', '9.5'],
    feature: 'envelope',
    title:
      'every refusal before authentication — sender not pinned, sender or recipient key id, expired card, failed AEAD check, another pair key — is one answer, byte for byte: status, grpc-message and ErrorDetail',
    async run(ctx) {
      const envelopes = await unauthenticatedEnvelopes(ctx, MessageKind.MESSAGE_KIND_NOTICE, () =>
        notice('conformance', 'one refusal'),
      );
      const outcomes: Array<[string, Awaited<ReturnType<typeof ctx.host.deliverRaw>>]> = [];
      for (const [what, bytes] of envelopes) outcomes.push([what, await ctx.host.deliverRaw(bytes)]);
      ensureOneRefusal(outcomes);
    },
  },
  {
    id: 'envelope.tampered-header',
    section: '4.5',
    feature: 'envelope',
    title:
      'a header changed on the path (one byte of the message id) fails the AEAD check: the one refusal, no receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal();
      const id = Buffer.from(sealed.header.messageId, 'ascii');
      const tampered = reencode(sealed.envelope, (c) => {
        const at = c.header.indexOf(id);
        c.header[at] = c.header[at] === 0x41 ? 0x42 : 0x41;
      });
      ensureRefused(await ctx.host.deliverRaw(tampered), NOT_AUTHENTICATED);
    },
  },
  {
    id: 'envelope.tampered-ciphertext',
    section: '4.5',
    feature: 'envelope',
    title: 'a ciphertext changed on the path fails the AEAD check: the one refusal, no receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal();
      ensureRefused(
        await ctx.host.deliverRaw(reencode(sealed.envelope, (c) => (c.ciphertext[3] = (c.ciphertext[3] ?? 0) ^ 0x01))),
        NOT_AUTHENTICATED,
      );
    },
  },
  {
    id: 'envelope.tampered-nonce',
    section: '4.5',
    feature: 'envelope',
    title: 'a nonce changed on the path fails the AEAD check: the one refusal, no receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal();
      ensureRefused(
        await ctx.host.deliverRaw(reencode(sealed.envelope, (c) => (c.nonce[0] = (c.nonce[0] ?? 0) ^ 0x80))),
        NOT_AUTHENTICATED,
      );
    },
  },
  {
    id: 'envelope.wrong-pair-key',
    section: '4.5',
    feature: 'envelope',
    title:
      'an envelope sealed under another pair key (keys the node did not pin) fails the AEAD check: the one refusal',
    async run(ctx) {
      const peer = await ctx.peer();
      const other = participantKeys();
      const pairKey = derivePairKey(
        other.encryptionSecretKey,
        other.encryptionPublicKey,
        ctx.target.cardBody.encryptionPublicKey,
      );
      ensureRefused(await ctx.host.deliverRaw(peer.seal({ pairKey }).bytes), NOT_AUTHENTICATED);
    },
  },
  {
    id: 'envelope.refusal-not-remembered',
    section: '4.11',
    feature: 'envelope',
    title:
      'a refusal before authentication is not remembered: the genuine envelope with the same id is accepted afterwards',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal();
      const forged = reencode(sealed.envelope, (c) => (c.ciphertext[0] = (c.ciphertext[0] ?? 0) ^ 0x01));
      ensureRefused(await ctx.host.deliverRaw(forged), NOT_AUTHENTICATED);
      ensureAccepted(await ctx.host.deliverRaw(sealed.bytes), peer.receiptOf(sealed.header.messageId, sealed.digest));
    },
  },
  {
    id: 'envelope.bad-signature',
    section: '4.9',
    feature: 'envelope',
    title: 'a body signed with another key is BAD_SIGNATURE (sealed.signature, ed25519) with a signed REJECTED receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal({ signingSecretKey: participantKeys().signingSecretKey });
      ensureRefused(
        await ctx.host.deliverRaw(sealed.bytes),
        { code: E.ERROR_CODE_BAD_SIGNATURE, field: 'sealed.signature', rule: 'ed25519', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'envelope.signature-covers-header',
    section: '3.4',
    feature: 'envelope',
    title:
      'a signature over another header (re-addressed, surreptitious forwarding) is BAD_SIGNATURE even though the AEAD check passes',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal({ signHeader: { recipient: ctx.host.freshId() } });
      ensureRefused(
        await ctx.host.deliverRaw(sealed.bytes),
        { code: E.ERROR_CODE_BAD_SIGNATURE, field: 'sealed.signature', rule: 'ed25519', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'envelope.large-accepted',
    section: '5.1',
    feature: 'envelope',
    title: 'an envelope of nearly max_envelope_bytes (a trace request with photos of up to 1 MiB each) is accepted',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { acceptRequests: true } });
      // Photos of at most 1 MiB each (12.2) filling the envelope but for 32 KiB of room for the rest.
      const photos = [];
      for (let left = ctx.settings.maxEnvelopeBytes - 32 * 1024; left > 0; left -= 1024 * 1024) {
        photos.push({
          mediaType: 'image/png',
          content: Buffer.alloc(Math.min(left, 1024 * 1024), photos.length + 1),
          caption: '',
        });
      }
      const base = traceRequest();
      const body = encodeBody(MessageKind.MESSAGE_KIND_TRACE_REQUEST, { ...base, weapon: { ...base.weapon, photos } });
      const sealed = peer.seal({ kind: MessageKind.MESSAGE_KIND_TRACE_REQUEST, body });
      if (sealed.bytes.length > ctx.settings.maxEnvelopeBytes)
        throw new Error(`the large envelope is ${sealed.bytes.length} bytes, over the limit`);
      ensureAccepted(
        await ctx.host.deliverRaw(sealed.bytes, 60_000),
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'envelope.size-limit-exact',
    section: '4.2',
    cites: ['5.1'],
    feature: 'envelope',
    title:
      'the limit is inclusive: a correct envelope of exactly max_envelope_bytes is accepted; a correct envelope one byte longer is ENVELOPE_TOO_LARGE (max_envelope_bytes) without receipt',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { acceptRequests: true } });
      const max = ctx.settings.maxEnvelopeBytes;
      const accepted = exactlySized(peer, max);
      ensureAccepted(
        await ctx.host.deliverRaw(accepted.bytes, 60_000),
        peer.receiptOf(accepted.header.messageId, accepted.digest),
      );
      const over = exactlySized(peer, max + 1);
      const outcome = await ctx.host.deliverRaw(over.bytes, 60_000);
      // Its gRPC layer may refuse it as soon as the length prefix arrives, without detail (protocol 5.1, 9.3).
      if (!outcome.ok && !outcome.error.detail && outcome.error.grpcCode === GrpcStatus.RESOURCE_EXHAUSTED) return;
      ensureRefused(outcome, { code: E.ERROR_CODE_ENVELOPE_TOO_LARGE, rule: 'max_envelope_bytes', receipt: 'none' });
    },
  },
  {
    id: 'envelope.signature-of-other-pinned-peer',
    section: '4.9',
    cites: ['10.2'],
    feature: 'envelope',
    title: "a body signed by another pinned peer's key is BAD_SIGNATURE: only the sender's pinned key counts",
    async run(ctx) {
      const peer = await ctx.peer();
      const other = await ctx.peer();
      const sealed = peer.seal({ signingSecretKey: other.keys.signingSecretKey });
      ensureRefused(
        await ctx.host.deliverRaw(sealed.bytes),
        { code: E.ERROR_CODE_BAD_SIGNATURE, field: 'sealed.signature', rule: 'ed25519', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'envelope.header-bytes-as-received',
    section: '0',
    cites: ['3.5'],
    feature: 'envelope',
    title:
      'a header in another valid encoding (fields in reverse order), sealed and signed over those bytes, is accepted: receivers authenticate and verify the bytes received',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal({ correlationId: 'conformance-bytes', headerBytes: reversedHeaderBytes });
      if (
        Buffer.from(EnvelopeHeader.encode(EnvelopeHeader.decode(sealed.envelope.header)).finish()).equals(
          Buffer.from(sealed.envelope.header),
        )
      ) {
        throw new Error('the reversed header encodes like the canonical one');
      }
      ensureAccepted(await ctx.host.deliverRaw(sealed.bytes), peer.receiptOf(sealed.header.messageId, sealed.digest));
    },
  },
  {
    id: 'envelope.outside-window-past',
    section: '4.7',
    feature: 'envelope',
    title:
      'an envelope created more than W ago is OUTSIDE_TIME_WINDOW (replay_window) with a receipt; a fresh seal of the same id is then accepted',
    async run(ctx) {
      const peer = await ctx.peer();
      const messageId = newMessageId();
      const old = peer.seal({
        messageId,
        createdAtMs: Date.now() - ctx.settings.replayWindowMs - 60_000,
        expiresAtMs: Date.now() + 3_600_000,
      });
      ensureRefused(
        await ctx.host.deliverRaw(old.bytes),
        {
          code: E.ERROR_CODE_OUTSIDE_TIME_WINDOW,
          field: 'header.created_at_ms',
          rule: 'replay_window',
          receipt: 'rejected',
        },
        peer.receiptOf(messageId, old.digest),
      );
      const fresh = peer.seal({ messageId });
      ensureAccepted(await ctx.host.deliverRaw(fresh.bytes), peer.receiptOf(messageId, fresh.digest));
    },
  },
  {
    id: 'envelope.outside-window-future',
    section: '4.7',
    feature: 'envelope',
    title: 'an envelope created more than W in the future is OUTSIDE_TIME_WINDOW',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal({ createdAtMs: Date.now() + ctx.settings.replayWindowMs + 60_000 });
      ensureRefused(
        await ctx.host.deliverRaw(sealed.bytes),
        { code: E.ERROR_CODE_OUTSIDE_TIME_WINDOW, rule: 'replay_window', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'envelope.expired',
    section: '4.7',
    cites: ['3.1'],
    feature: 'envelope',
    title: 'an envelope whose expires_at_ms has passed is EXPIRED (header.expires_at_ms, expiry) with a receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const now = Date.now();
      const sealed = peer.seal({ createdAtMs: now - 2000, expiresAtMs: now - 1000 });
      ensureRefused(
        await ctx.host.deliverRaw(sealed.bytes),
        { code: E.ERROR_CODE_EXPIRED, field: 'header.expires_at_ms', rule: 'expiry', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'envelope.malformed-body',
    section: '4.9',
    feature: 'envelope',
    title: 'a body that does not decode as its kind is MALFORMED (body, protobuf) with a receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal({ body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]) });
      ensureRefused(
        await ctx.host.deliverRaw(sealed.bytes),
        { code: E.ERROR_CODE_MALFORMED, field: 'body', rule: 'protobuf', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'envelope.notice-missing-subject',
    section: '6.2',
    feature: 'envelope',
    title: 'a Notice without subject is MISSING_FIELD (body.subject, required) with a receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal({ body: notice('', 'text') });
      ensureRefused(
        await ctx.host.deliverRaw(sealed.bytes),
        { code: E.ERROR_CODE_MISSING_FIELD, field: 'body.subject', rule: 'required', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'envelope.notice-subject-too-long',
    section: '6.2',
    feature: 'envelope',
    title: 'a Notice subject of 201 characters is INVALID_FIELD (body.subject, length)',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal({ body: notice('s'.repeat(201), 'text') });
      ensureRefused(
        await ctx.host.deliverRaw(sealed.bytes),
        { code: E.ERROR_CODE_INVALID_FIELD, field: 'body.subject', rule: 'length', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'envelope.missing-header',
    section: '4.3',
    feature: 'envelope',
    title: 'an envelope without header is MISSING_FIELD (envelope.header, required)',
    async run(ctx) {
      ensureRefused(await ctx.host.deliverRaw(rawEnvelope(Buffer.alloc(0), Buffer.alloc(24, 1), Buffer.alloc(32, 2))), {
        code: E.ERROR_CODE_MISSING_FIELD,
        field: 'envelope.header',
        rule: 'required',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.required-fields-in-order',
    section: '4.3',
    feature: 'envelope',
    title: 'with sender and recipient both empty the first required field is named: MISSING_FIELD (header.sender)',
    async run(ctx) {
      const peer = await ctx.peer();
      ensureRefused(await ctx.host.deliverRaw(peer.seal({ header: { sender: '', recipient: '' } }).bytes), {
        code: E.ERROR_CODE_MISSING_FIELD,
        field: 'header.sender',
        rule: 'required',
        receipt: 'none',
      });
    },
  },
  {
    id: 'envelope.notice-text-too-long',
    section: '6.2',
    feature: 'envelope',
    title: 'a Notice text of 100 001 characters is INVALID_FIELD (body.text, length)',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal({ body: notice('long', 't'.repeat(100_001)) });
      ensureRefused(
        await ctx.host.deliverRaw(sealed.bytes),
        { code: E.ERROR_CODE_INVALID_FIELD, field: 'body.text', rule: 'length', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'envelope.lookup-kind-on-deliver',
    section: '13.1',
    feature: 'envelope',
    title: 'a LOOKUP_QUERY sent with Deliver is INVALID_FIELD (header.kind, deliverable_kind) with a receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal({ kind: MessageKind.MESSAGE_KIND_LOOKUP_QUERY, body: Buffer.alloc(0) });
      ensureRefused(
        await ctx.host.deliverRaw(sealed.bytes),
        { code: E.ERROR_CODE_INVALID_FIELD, field: 'header.kind', rule: 'deliverable_kind', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
];
