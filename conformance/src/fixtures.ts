import {
  type Case,
  CaseRole,
  CaseState,
  Envelope,
  FindingKind,
  IllicitKind,
  KeyRevocation,
  KeyRotation,
  MessageDirection,
  MessageKind,
  PeerCardBody,
  type PeerPolicy,
  Priority,
  ReasonCode,
  TraceAcknowledgement,
  TraceAnswer,
  TraceOutcome,
  TraceRequest,
  WeaponEventType,
  type WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import { BODY_TYPES } from './bodies.js';
import type { CaseContext, NodeUnderTest } from './case.js';
import { CaseFailure, describe, ensureAccepted } from './check.js';
import { pairKey, participantKeys } from './codec/index.js';
import {
  type FakePeer,
  type KeySet,
  kindName,
  newMessageId,
  type PeerHost,
  type ReceivedMessage,
  type SealedEnvelope,
  type SealOptions,
} from './fake-peer.js';

/** A trace id as a requester chooses it (protocol 12.1). */
export const newTraceId = newMessageId;

/** Serializes a body of `kind` (given as a partial message; defaults fill the rest). */
export function encodeBody(kind: MessageKind, body: object): Buffer {
  const codec = BODY_TYPES[kind] as
    | { encode(m: unknown): { finish(): Uint8Array }; fromPartial(m: unknown): unknown }
    | undefined;
  if (!codec) throw new Error(`no encoder for ${kindName(kind)}`);
  return Buffer.from(codec.encode(codec.fromPartial(body)).finish());
}

/** A complete trace request (protocol 12.2): every required item present. */
export function traceRequest(changes: Partial<TraceRequest> = {}): TraceRequest {
  return TraceRequest.fromPartial({
    traceId: newTraceId(),
    requestingAuthority: 'Conformance suite tracing office',
    caseReference: `CONF-${newMessageId().slice(0, 8)}`,
    priority: Priority.PRIORITY_ROUTINE,
    illicitCriteria: [{ kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'Weapons Act, s. 12' }],
    circumstances: {
      kind: FindingKind.FINDING_KIND_SEIZED,
      date: '2025-12-02',
      place: 'Port of entry',
      agency: 'Customs',
      description: '',
      circumstance: 0,
    },
    weapon: {
      markings: {
        manufacturer: 'Conformance Arms',
        countryOfManufacture: 'XAA',
        serialNumber: 'CF-1234-5678',
        model: 'C-9',
        type: WeaponType.WEAPON_TYPE_PISTOL,
        calibre: '9x19mm',
        year: 2015,
      },
    },
    intendedUse: 'criminal investigation and prosecution',
    ...changes,
  });
}

/** A traced answer (protocol 12.2) for `traceId`. */
export function tracedAnswer(traceId: string, changes: Partial<TraceAnswer> = {}): Partial<TraceAnswer> {
  return {
    traceId,
    outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
    lastLegalRecord: 'exported 2016-04-01 to XAA under licence L-1',
    ...changes,
  };
}

/** A valid record with events, as `Records.PutRecord` takes it (protocol 11.1). */
export function weaponRecord(serial: string, changes: Partial<WeaponRecord> = {}): Partial<WeaponRecord> {
  return {
    manufacture: {
      manufacturer: 'Conformance Arms',
      countryOfManufacture: 'XAA',
      serialNumber: serial,
      model: 'C-9',
      type: WeaponType.WEAPON_TYPE_PISTOL,
      calibre: '9x19mm',
      year: 2015,
    },
    secondaryMarks: [{ location: 'inside the frame', value: 'COVERT-MARK-77' }],
    events: [
      {
        type: WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED,
        date: '2015-03-02',
        place: 'Conformance City',
        agency: '',
        destination: '',
        origin: '',
        licence: '',
        endUser: '',
        details: '',
        circumstance: 0,
        undertaking: undefined,
      },
      {
        type: WeaponEventType.WEAPON_EVENT_TYPE_STOLEN,
        date: '2020-06-01',
        place: 'Depot 4',
        agency: 'Police',
        destination: '',
        origin: '',
        licence: '',
        endUser: '',
        details: '',
        circumstance: 0,
        undertaking: undefined,
      },
    ],
    notes: 'CONFIDENTIAL-NOTE-91',
    ...changes,
  };
}

/** Sends a body of `kind` from `peer` and requires an ACCEPTED receipt (protocol 4.10). */
export async function sendAccepted(peer: FakePeer, kind: MessageKind, body: object, context: string): Promise<string> {
  const { sealed, outcome } = await peer.send(kind, encodeBody(kind, body));
  if (!outcome.ok) throw new CaseFailure(`the ${kindName(kind)} to be accepted`, describe(outcome), context);
  ensureAccepted(outcome, peer.receiptOf(sealed.header.messageId, sealed.digest));
  return sealed.header.messageId;
}

/** The node's only case with `peer` (each case of the suite uses fresh peers). */
export async function caseWith(ctx: Pick<NodeUnderTest, 'target'>, peer: FakePeer, role?: CaseRole): Promise<Case> {
  const { cases } = await ctx.target.cases.call('listCases', {
    role: role ?? CaseRole.CASE_ROLE_UNSPECIFIED,
    state: CaseState.CASE_STATE_UNSPECIFIED,
    peer: peer.participantId,
    overdueOnly: false,
    limit: 10,
    cursor: '',
  });
  const found = cases[0];
  if (!found) throw new CaseFailure(`a case with ${peer.participantId} in ListCases`, 'none', 'protocol 12.4');
  const { case: full } = await ctx.target.cases.call('getCase', { caseId: found.caseId });
  if (!full) throw new CaseFailure(`GetCase ${found.caseId} to return the case`, 'no case');
  return full;
}

/** Reads a case by id. */
export async function getCase(ctx: Pick<NodeUnderTest, 'target'>, caseId: string): Promise<Case> {
  const { case: c } = await ctx.target.cases.call('getCase', { caseId });
  if (!c) throw new CaseFailure(`GetCase ${caseId} to return the case`, 'no case');
  return c;
}

/** Fails unless the case is in `state`. */
export function ensureState(c: Case, state: CaseState, context: string): void {
  if (c.state !== state)
    throw new CaseFailure(`case ${c.caseId} in state ${CaseState[state]}`, `${CaseState[c.state] ?? c.state}`, context);
}

/** A trace the node received from a fake peer (the node is the requested participant). */
export interface RequestedTrace {
  readonly peer: FakePeer;
  readonly traceId: string;
  readonly request: TraceRequest;
  readonly caseId: string;
}

/**
 * A fake peer allowed to open traces (`accept_requests`, plus `policy`) sends a complete request;
 * returns the node's new case (state RECEIVED, or later with automatic steps).
 */
export async function receivedTrace(
  ctx: CaseContext,
  policy: Partial<PeerPolicy> = {},
  request: TraceRequest = traceRequest(),
  peer?: FakePeer,
): Promise<RequestedTrace> {
  const p = peer ?? (await ctx.peer({ policy: { acceptRequests: true, ...policy } }));
  await sendAccepted(
    p,
    MessageKind.MESSAGE_KIND_TRACE_REQUEST,
    request,
    'protocol 12.4: a complete request from a peer whose policy accepts requests',
  );
  const c = await caseWith(ctx, p);
  return { peer: p, traceId: request.traceId, request, caseId: c.caseId };
}

/** {@link receivedTrace}, then the officer acknowledges it; the fake peer consumes the acknowledgement. */
export async function acknowledgedTrace(
  ctx: CaseContext,
  policy: Partial<PeerPolicy> = {},
): Promise<RequestedTrace & { ack: ReceivedMessage & { body: TraceAcknowledgement } }> {
  const trace = await receivedTrace(ctx, policy);
  await ctx.target.cases.call('acknowledgeCase', { caseId: trace.caseId, reference: '' });
  const ack = await trace.peer.expect<TraceAcknowledgement>(MessageKind.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, {
    context: 'protocol 12.4 sending: AcknowledgeCase',
  });
  return { ...trace, ack };
}

/** A trace the node opened with a fake peer (the node is the requester). */
export interface RequesterTrace {
  readonly peer: FakePeer;
  readonly caseId: string;
  readonly traceId: string;
  readonly request: ReceivedMessage & { body: TraceRequest };
}

/** The node's officer creates and sends a request to a fresh fake peer, which receives it. */
export async function sentTrace(
  ctx: CaseContext,
  policy?: Partial<PeerPolicy>,
  peer?: FakePeer,
): Promise<RequesterTrace> {
  const p = peer ?? (await ctx.peer(policy ? { policy } : {}));
  const { traceId: _ignored, ...content } = traceRequest();
  const created = await ctx.target.cases.call('createCase', {
    recipient: p.participantId,
    request: TraceRequest.fromPartial(content),
    send: true,
  });
  const c = created.case;
  if (!c) throw new CaseFailure('CreateCase to return the case', 'no case');
  const request = await p.expect<TraceRequest>(MessageKind.MESSAGE_KIND_TRACE_REQUEST, {
    context: 'protocol 12.10: CreateCase with send',
  });
  return { peer: p, caseId: c.caseId, traceId: request.body.traceId, request };
}

/** {@link sentTrace}, then the fake peer acknowledges it. */
export async function acknowledgedSentTrace(ctx: CaseContext, policy?: Partial<PeerPolicy>): Promise<RequesterTrace> {
  const trace = await sentTrace(ctx, policy);
  await sendAccepted(
    trace.peer,
    MessageKind.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT,
    {
      traceId: trace.traceId,
      requesterCaseReference: trace.request.body.caseReference,
      requestedCaseReference: 'FAKE-REF-1',
    },
    'protocol 12.3: SENT + acknowledgement',
  );
  return trace;
}

/** {@link acknowledgedSentTrace}, then the fake peer answers with `answer`. */
export async function answeredSentTrace(ctx: CaseContext, answer: Partial<TraceAnswer> = {}): Promise<RequesterTrace> {
  const trace = await acknowledgedSentTrace(ctx);
  await sendAccepted(
    trace.peer,
    MessageKind.MESSAGE_KIND_TRACE_ANSWER,
    tracedAnswer(trace.traceId, answer),
    'protocol 12.3: ACKNOWLEDGED + answer',
  );
  return trace;
}

/** Sends a body and returns the outcome (for refusals). */
export async function sendBody(
  peer: FakePeer,
  kind: MessageKind,
  body: object,
  options: Parameters<FakePeer['send']>[2] = {},
) {
  return peer.send(kind, encodeBody(kind, body), options);
}

/** A reason and explanation of a delay, restriction or refusal (protocol 12.1). */
export const REASON = {
  reason: ReasonCode.REASON_CODE_ONGOING_CRIMINAL_INVESTIGATION,
  explanation: 'an investigation is ongoing',
} as const;

/** Polls the node's messages of `direction` until `messageId` is listed; false after `timeoutMs`. */
export async function listedAs(
  node: Pick<NodeUnderTest, 'target'>,
  direction: MessageDirection,
  messageId: string,
  timeoutMs = 8000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { messages } = await node.target.authority.call('listMessages', { direction, limit: 1000, cursor: '' });
    if (messages.some((m) => m.messageId === messageId)) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

/** Waits `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Seals a key message of `peer` with `keySet` and delivers it to the peer's node. */
export async function sendKeyMessage(
  peer: FakePeer,
  kind: MessageKind,
  body: Uint8Array,
  keySet: KeySet,
): Promise<{ sealed: SealedEnvelope; outcome: Awaited<ReturnType<PeerHost['deliverRaw']>> }> {
  const sealed = peer.seal({ kind, body, keySet });
  return { sealed, outcome: await peer.host.deliverRaw(sealed.bytes) };
}

/**
 * The peer rotates to new keys and announces it to its node as protocol 15.2 says: a KEY_ROTATION
 * carrying the new card, sealed and signed with the keys the node pinned, with a grace of
 * `graceMs`, which the node must accept with a signed receipt. Returns the key set rotated away from.
 */
export async function announceRotation(peer: FakePeer, graceMs = 60_000): Promise<KeySet> {
  const next = peer.rotate();
  const previous = peer.previous[0] as KeySet;
  const body = KeyRotation.encode({
    card: next.card,
    previousKeyId: previous.keyId,
    graceUntilMs: Date.now() + graceMs,
  }).finish();
  const { sealed, outcome } = await sendKeyMessage(peer, MessageKind.MESSAGE_KIND_KEY_ROTATION, body, previous);
  if (!outcome.ok)
    throw new CaseFailure(
      'the KEY_ROTATION of a peer signed with its pinned keys to be accepted',
      describe(outcome),
      'protocol 15.2',
    );
  ensureAccepted(outcome, peer.receiptOf(sealed.header.messageId, sealed.digest));
  return previous;
}

/**
 * Rotates `peer` (announceRotation), then revokes its previous keys with a KEY_REVOCATION signed by
 * the new ones (protocol 15.3), which must be accepted; the revoked key set.
 */
export async function rotateAndRevokePrevious(peer: FakePeer): Promise<KeySet> {
  const old = await announceRotation(peer);
  const body = KeyRevocation.encode({
    revokedKeyIds: [old.keyId],
    revokedAtMs: Date.now(),
    reason: 'compromised',
  }).finish();
  const revocation = await sendKeyMessage(peer, MessageKind.MESSAGE_KIND_KEY_REVOCATION, body, peer.keySet);
  if (!revocation.outcome.ok)
    throw new CaseFailure(
      'the KEY_REVOCATION of the previous keys, signed with the new ones, to be accepted',
      describe(revocation.outcome),
      'protocol 15.3',
    );
  ensureAccepted(revocation.outcome, peer.receiptOf(revocation.sealed.header.messageId, revocation.sealed.digest));
  return old;
}

/**
 * `message` with a field that this version does not define appended: field number 100, a
 * length-delimited string, as a later revision might add (protocol 16.2: receivers ignore it).
 */
export function withUnknownField(message: Uint8Array, text = 'a field of a later revision'): Buffer {
  const value = Buffer.from(text);
  // Tag (100 << 3 | 2) = 802 as a varint, then the length (one byte: the text is short).
  return Buffer.concat([message, Buffer.from([0xa2, 0x06, value.length]), value]);
}

/** Re-encodes an envelope after changing a copy of its three fields. */
export function reencode(
  envelope: Envelope,
  change: (copy: { header: Buffer; nonce: Buffer; ciphertext: Buffer }) => void,
): Buffer {
  const copy = {
    header: Buffer.from(envelope.header),
    nonce: Buffer.from(envelope.nonce),
    ciphertext: Buffer.from(envelope.ciphertext),
  };
  change(copy);
  return Buffer.from(Envelope.encode(copy).finish());
}

/**
 * `message` with its field `field` (an `int64`) set to `value` by a varint appended at the end
 * (proto3: the last value of a field wins), so that values beyond ±(2^53 − 1) — which no
 * JavaScript number holds exactly — reach the node as written (protocol 0).
 */
export function withInt64(message: Uint8Array, field: number, value: bigint): Buffer {
  const bytes: number[] = [];
  const varint = (n: bigint) => {
    let v = BigInt.asUintN(64, n);
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      bytes.push(v > 0n ? low | 0x80 : low);
    } while (v > 0n);
  };
  varint(BigInt(field * 8));
  varint(value);
  return Buffer.concat([message, Buffer.from(bytes)]);
}

/**
 * Envelopes that name the node but that it must not authenticate (protocol 4.4, 4.5), one per
 * precise reason, each otherwise a correct envelope of `kind` with a fresh `body()`: from a
 * participant that is not pinned, naming a sender key id the pinned card does not have or a
 * recipient key id that is not the node's, from a sender whose pinned card has expired, with a
 * ciphertext changed on the path, and sealed under another pair key. Waits for the card to expire.
 */
export async function unauthenticatedEnvelopes(
  ctx: CaseContext,
  kind: MessageKind,
  body: () => Uint8Array,
): Promise<Array<[string, Buffer]>> {
  const seal = (peer: FakePeer, options: SealOptions = {}) =>
    peer.seal({ kind, body: body(), expiresAtMs: Date.now() + 60_000, ...options });
  const stranger = await ctx.peer({ pin: false });
  const peer = await ctx.peer();
  const shortLived = await ctx.peer({ validForMs: 1500 });
  const other = participantKeys();
  const foreignPairKey = pairKey(
    other.encryptionSecretKey,
    other.encryptionPublicKey,
    ctx.target.cardBody.encryptionPublicKey,
  );
  await sleep(Math.max(0, PeerCardBody.decode(shortLived.card.body).validUntilMs + 300 - Date.now()));
  return [
    ['a sender that is not pinned', seal(stranger).bytes],
    [
      "a sender key id that is not the pinned card's",
      seal(peer, { header: { senderKeyId: 'fedcba9876543210' } }).bytes,
    ],
    ["a recipient key id that is not the node's", seal(peer, { header: { recipientKeyId: '0123456789abcdef' } }).bytes],
    ['a sender whose pinned card has expired', seal(shortLived).bytes],
    [
      'a ciphertext changed on the path (AEAD check fails)',
      reencode(seal(peer).envelope, (c) => (c.ciphertext[3] = (c.ciphertext[3] ?? 0) ^ 0x01)),
    ],
    ['sealed under a pair key of keys the node did not pin', seal(peer, { pairKey: foreignPairKey }).bytes],
  ];
}
