import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { credentials, Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import {
  ListCasesRequest,
  AuthorityClient,
  Case,
  CaseRole,
  CaseState,
  CasesClient,
  type CasesServer,
  ClarificationReply,
  ClarificationRequest,
  Closure,
  ConsentDecision,
  ConsentRequest,
  DelayNotice,
  DisclosureNotice,
  ErrorCode,
  FindingKind,
  IllicitKind,
  MessageKind,
  NodeEvent,
  NodeEventType,
  OnwardDisclosure,
  PeerPolicy,
  Priority,
  ReasonCode,
  ReceiptStatus,
  RecordsClient,
  type RecordsServer,
  Refusal,
  Restriction,
  SharedInformation,
  TraceAcknowledgement,
  TraceAnswer,
  TraceOutcome,
  TraceRequest,
  TracenetError,
  WeaponEventType as E,
  WeaponStatus,
  WeaponType,
  Withdrawal,
  type WeaponRecord,
  type ManufactureMarking,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { verifyReceipt } from '../../src/envelope/receipt.js';
import type { Transport } from '../../src/federation/transport.js';
import { dataPaths, readAuthorityToken, type NodeIdentity } from '../../src/identity/data-dir.js';
import { openStore } from '../../src/store/store.js';
import type { TracenetNode } from '../../src/node.js';
import { ManualClock } from '../../src/util/clock.js';
import { event as weaponEvent, weapon as weaponRecord } from '../records/support.js';
import { pinAll, startNode, waitFor, type TestNode } from '../support/nodes.js';
import {
  countEntries,
  makeParty,
  newMessageId,
  type Party,
  RawFederationClient,
  rejectionOf,
  sealFrom,
  type Keyed,
} from '../support/parties.js';
import { RecordingTransport } from '../support/recording-transport.js';

/**
 * The ITI tracing workflow on real in-process nodes (real LevelDB, gRPC over TLS, crypto), driven
 * through the Cases API and by hand-sealed peer envelopes, with an injected ManualClock for the
 * deadlines: request content, policy, automatic answers, illegal steps, refusals with signed
 * receipts, deadlines, the event stream, listings, chains and message order.
 */

const S = CaseState;
const K = MessageKind;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ---- fixtures -------------------------------------------------------------------------------

/** The FNX-45 of the demo chain: made by FN Herstal in BEL, exported to KEN, stolen there. */
const FNX: ManufactureMarking = {
  manufacturer: 'FN Herstal',
  countryOfManufacture: 'BEL',
  serialNumber: 'FX-0412-2231',
  model: 'FNX-45',
  type: WeaponType.WEAPON_TYPE_PISTOL,
  calibre: '.45 ACP',
  year: 2011,
};

function markings(changes: Partial<ManufactureMarking> = {}): ManufactureMarking {
  return { ...FNX, ...changes };
}

/** A complete trace request for `m` (trace and chain ids are assigned by the node). */
function request(m: ManufactureMarking = FNX, changes: Partial<TraceRequest> = {}): TraceRequest {
  return TraceRequest.fromPartial({
    requestingAuthority: 'Office central de lutte contre le crime organisé',
    caseReference: 'OCLCO-2026-0147',
    priority: Priority.PRIORITY_ROUTINE,
    urgencyJustification: '',
    illicitCriteria: [
      { kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'Code de la sécurité intérieure, art. L317-8' },
    ],
    circumstances: {
      kind: FindingKind.FINDING_KIND_SEIZED,
      date: '2025-12-02',
      place: 'Marseille',
      agency: 'Police judiciaire',
      description: '',
      circumstance: 0,
    },
    weapon: {
      markings: { ...m },
      imports: [],
      governmentTransfer: undefined,
      controlComponent: undefined,
      components: [],
      manufactureMethod: 0,
      photos: [],
      otherInformation: '',
    },
    intendedUse: 'criminal investigation and prosecution',
    ...changes,
  });
}

/** Takes one item away from a (copy of a) complete request. */
type Mutation = (r: TraceRequest) => void;

/**
 * Every required item of a trace request (ITI; issue 3 item 5): what taking it away does, and the
 * field the refusal must name (relative to the request).
 */
const MISSING: ReadonlyArray<[string, Mutation, string[]]> = [
  ['illicit criterion', (r) => (r.illicitCriteria = []), ['illicit_criteria']],
  [
    'criterion kind',
    (r) => ((r.illicitCriteria[0] as { kind: IllicitKind }).kind = IllicitKind.ILLICIT_KIND_UNSPECIFIED),
    ['illicit_criteria[0].kind'],
  ],
  [
    'legal basis',
    (r) => ((r.illicitCriteria[0] as { legalBasis: string }).legalBasis = ' '),
    ['illicit_criteria[0].legal_basis'],
  ],
  ['circumstances', (r) => (r.circumstances = undefined), ['circumstances']],
  [
    'seized / found / surrendered',
    (r) => r.circumstances && (r.circumstances.kind = FindingKind.FINDING_KIND_UNSPECIFIED),
    ['circumstances.kind'],
  ],
  ['date of the finding', (r) => r.circumstances && (r.circumstances.date = ''), ['circumstances.date']],
  ['place of the finding', (r) => r.circumstances && (r.circumstances.place = ''), ['circumstances.place']],
  ['markings', (r) => (r.weapon = undefined), ['weapon.markings']],
  [
    'serial number',
    (r) => r.weapon?.markings && (r.weapon.markings.serialNumber = ''),
    ['weapon.markings.serial_number'],
  ],
  [
    'manufacturer',
    (r) => r.weapon?.markings && (r.weapon.markings.manufacturer = ''),
    ['weapon.markings.manufacturer'],
  ],
  [
    'type',
    (r) => r.weapon?.markings && (r.weapon.markings.type = WeaponType.WEAPON_TYPE_UNSPECIFIED),
    ['weapon.markings.type'],
  ],
  ['calibre', (r) => r.weapon?.markings && (r.weapon.markings.calibre = ''), ['weapon.markings.calibre']],
  ['intended use', (r) => (r.intendedUse = ''), ['intended_use']],
  ['requesting authority', (r) => (r.requestingAuthority = ''), ['requesting_authority']],
  ['case reference', (r) => (r.caseReference = ''), ['case_reference']],
  ['priority', (r) => (r.priority = Priority.PRIORITY_UNSPECIFIED), ['priority']],
  ['justification of an urgent request', (r) => (r.priority = Priority.PRIORITY_URGENT), ['urgency_justification']],
  // White space alone is empty (protocol 6.2).
  [
    'justification of an urgent request but white space',
    (r) => Object.assign(r, { priority: Priority.PRIORITY_URGENT, urgencyJustification: ' \t\n ' }),
    ['urgency_justification'],
  ],
  ['intended use but white space', (r) => (r.intendedUse = '   '), ['intended_use']],
  [
    'everything',
    (r) => Object.assign(r, TraceRequest.fromPartial({ traceId: r.traceId })),
    [
      'requesting_authority',
      'case_reference',
      'priority',
      'illicit_criteria',
      'circumstances',
      'weapon.markings',
      'intended_use',
    ],
  ],
];

function without(mutation: Mutation, traceId = ''): TraceRequest {
  const r = TraceRequest.fromPartial(request());
  r.traceId = traceId;
  mutation(r);
  return r;
}

/** A record whose last event decides the automatic answer. */
function record(
  m: ManufactureMarking,
  events: WeaponRecord['events'],
  status = WeaponStatus.WEAPON_STATUS_REGISTERED,
): WeaponRecord {
  return weaponRecord(
    {
      events,
      status,
      imports: [],
      components: [],
      secondaryMarks: [{ location: 'under the slide', value: 'SECRET-7' }],
      notes: 'INTERNAL-NOTE: informant 12',
    },
    m,
  );
}

const EXPORTED_TO_KEN = [
  weaponEvent(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2011-05-17', { place: 'Herstal', agency: 'FN Herstal' }),
  weaponEvent(E.WEAPON_EVENT_TYPE_EXPORTED, '2012-03-14', {
    destination: 'KEN',
    licence: 'BE-EXP-2012-0413',
    endUser: 'Kenya Police Service',
  }),
];
const STOLEN_IN_KEN = [
  weaponEvent(E.WEAPON_EVENT_TYPE_IMPORTED, '2012-04-02', { origin: 'BEL', licence: 'KE-IMP-2012-117' }),
  weaponEvent(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2012-06-20', { endUser: 'Kenya Police Service, Nairobi armoury' }),
  weaponEvent(E.WEAPON_EVENT_TYPE_STOLEN, '2019-08-03', { place: 'Nairobi', agency: 'Kenya Police Service' }),
];

// ---- test bed -------------------------------------------------------------------------------

/** Real in-process nodes on loopback sharing one ManualClock, with a Cases client for each. */
interface Bed {
  readonly clock: ManualClock;
  node(id: string): TracenetNode;
  test(id: string): TestNode;
  cases(id: string): UnaryClient<CasesServer>;
  /** Sets `of`'s policy for `peer` (deadlines 0 = default unless given). */
  policy(of: string, peer: string, fields: Partial<PeerPolicy>): Promise<void>;
  /** A hand-sealing party pinned on the nodes named. */
  party(id: string, pinnedOn: readonly string[]): Promise<Party>;
  cleanup(): Promise<void>;
}

/**
 * Nodes on the in-memory store, unless `leveldb` (the restart tests, whose subject is what a node
 * finds in its store when it starts again).
 */
async function startBed(
  ids: readonly string[],
  options: { transports?: Readonly<Record<string, Transport>>; leveldb?: boolean } = {},
): Promise<Bed> {
  // Not before the real time: TLS certificates are issued with the real clock and checked with this one.
  const clock = new ManualClock(Math.max(Date.UTC(2026, 0, 5, 9), Date.now()));
  const tests = new Map<string, TestNode>();
  const clients = new Map<string, UnaryClient<CasesServer>>();
  const parties: Party[] = [];
  const cleanup = async () => {
    for (const c of clients.values()) c.close();
    await Promise.all([...tests.values()].map((t) => t.cleanup()));
    await Promise.all(parties.map((p) => p.cleanup()));
  };
  try {
    for (const id of ids) {
      const transport = options.transports?.[id];
      tests.set(id, await startNode(id, { clock, memory: !options.leveldb, ...(transport ? { transport } : {}) }));
    }
    await pinAll(
      [...tests.values()].map((t) => t.node),
      clock.now(),
    );
    for (const [id, t] of tests)
      clients.set(
        id,
        connectUnary<CasesServer>(CasesClient, t.node.authorityAddress, await readAuthorityToken(t.dataDir)),
      );
  } catch (error) {
    await cleanup();
    throw error;
  }
  const get = <T>(map: Map<string, T>, id: string): T => {
    const value = map.get(id);
    if (value === undefined) throw new Error(`no node ${id}`);
    return value;
  };
  return {
    clock,
    node: (id) => get(tests, id).node,
    test: (id) => get(tests, id),
    cases: (id) => get(clients, id),
    async policy(of, peer, fields) {
      await get(tests, of).node.policies.set(PeerPolicy.fromPartial({ ...fields, participantId: peer }));
    },
    async party(id, pinnedOn) {
      const party = await makeParty(id, clock.now());
      parties.push(party);
      for (const on of pinnedOn) await get(tests, on).node.peers.pin(party.card, clock.now());
      return party;
    },
    cleanup,
  };
}

/** Case `caseId` on `node` once it is in one of `states`. */
async function until(node: TracenetNode, caseId: string, states: readonly CaseState[]): Promise<Case> {
  let c = await node.workflow.get(caseId);
  await waitFor(
    async () => states.includes((c = await node.workflow.get(caseId)).state),
    10_000,
    `${node.identity.participantId} ${caseId} in ${states.map((s) => S[s]).join('/')}`,
  );
  return c;
}

/** The case of trace `traceId` on `node` (the requested side), once it exists. */
async function caseOfTrace(node: TracenetNode, traceId: string): Promise<Case> {
  let found: Case | undefined;
  await waitFor(
    async () => {
      found = (await node.workflow.list({ limit: 500 })).cases.find((c) => c.traceId === traceId);
      return found !== undefined;
    },
    10_000,
    `case of trace ${traceId} on ${node.identity.participantId}`,
  );
  return node.workflow.get((found as Case).caseId);
}

/** Waits until `node` has nothing left in its outbox. */
async function drained(node: TracenetNode): Promise<void> {
  await waitFor(
    async () => (await countEntries(node.store.outbox.queue)) === 0,
    10_000,
    `${node.identity.participantId} outbox drained`,
  );
}

/** Every stored event of a node, in sequence order. */
async function storedEvents(node: TracenetNode): Promise<NodeEvent[]> {
  const events: NodeEvent[] = [];
  for await (const event of node.store.audit.events.values()) events.push(event);
  return events;
}

/** What the rejected call failed with, as a TracenetError, with the gRPC status it travelled as. */
async function failure(promise: Promise<unknown>): Promise<TracenetError & { grpc: number | undefined }> {
  const error = TracenetError.from(await rejectionOf(promise));
  return Object.assign(error, { grpc: (error.cause as Partial<ServiceError> | undefined)?.code });
}

/** How much a node has stored about cases: cases, trace/chain index entries and inbox entries. */
async function caseStorage(node: TracenetNode): Promise<{ cases: number; index: number; inbox: number }> {
  return {
    cases: (await node.store.cases.page({ limit: 1_000_000 })).items.length,
    index: await node.store.cases.traces.count(),
    inbox: await node.store.messages.inbox.count(),
  };
}

/**
 * A peer's workflow message sealed by hand and delivered over the real Federation port. Resolves
 * with the receipt status, or with the error and its signed REJECTED receipt checked.
 */
async function deliverByHand(
  bed: Bed,
  from: Keyed & Pick<NodeIdentity, 'tls'>,
  to: TracenetNode,
  kind: MessageKind,
  body: Uint8Array,
  messageId = newMessageId(),
): Promise<{ status: 'accepted' } | { status: 'rejected'; error: TracenetError & { grpc: number | undefined } }> {
  const sealed = sealFrom(from, to.identity, bed.clock.now(), { kind, body, messageId });
  const client = new RawFederationClient(to.federationAddress, to.identity.tlsCertificatePem, from.tls);
  try {
    const receipt = await client.deliver(sealed.bytes);
    const body = verifyReceipt(receipt, {
      issuer: to.identity.participantId,
      issuerKeyId: to.identity.keyId,
      issuerSigningPublicKey: to.identity.keys.signingPublicKey,
      sender: from.participantId,
      messageId,
    });
    expect(body.status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    return { status: 'accepted' };
  } catch (raw) {
    const error = Object.assign(TracenetError.from(raw), { grpc: (raw as Partial<ServiceError>).code });
    expect(error.receipt, `a signed REJECTED receipt for ${error.codeName}`).toBeDefined();
    const body = verifyReceipt(error.receipt as NonNullable<TracenetError['receipt']>, {
      issuer: to.identity.participantId,
      issuerKeyId: to.identity.keyId,
      issuerSigningPublicKey: to.identity.keys.signingPublicKey,
      sender: from.participantId,
      messageId,
    });
    expect(body.status).toBe(ReceiptStatus.RECEIPT_STATUS_REJECTED);
    expect(body.errorCode).toBe(error.code);
    return { status: 'rejected', error };
  } finally {
    client.close();
  }
}

const randomTraceId = () =>
  `t${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`.slice(0, 24).padEnd(16, 'x');

// ---- tests ----------------------------------------------------------------------------------

describe('request content (ITI: what a trace request must contain)', () => {
  let bed: Bed;
  let party: Party;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL']);
    party = await bed.party('DEU', ['BEL']);
    await bed.policy('BEL', 'DEU', { acceptRequests: true, autoAcknowledge: true });
  });
  afterAll(() => bed?.cleanup());

  it.each(MISSING)(
    'Cases API: a request without %s is refused naming it; nothing is stored',
    async (_what, mutation, fields) => {
      const before = await caseStorage(bed.node('FRA'));
      const error = await failure(
        bed.cases('FRA').call('createCase', { recipient: 'BEL', request: without(mutation), send: true }),
      );
      expect(error.code, error.message).toBe(ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE);
      expect(error.grpc).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(error.violations.map((v) => v.field)).toEqual(fields.map((f) => `request.${f}`));
      expect(error.field).toBe(`request.${fields[0]}`);
      expect(await caseStorage(bed.node('FRA'))).toEqual(before);
      expect(await countEntries(bed.node('FRA').store.outbox.queue)).toBe(0);
    },
  );

  it.each(MISSING)(
    "a peer's request without %s is REJECTED with a signed receipt naming it; nothing is stored",
    async (_what, mutation, fields) => {
      const bel = bed.node('BEL');
      const before = await caseStorage(bel);
      const body = TraceRequest.encode(without(mutation, randomTraceId())).finish();
      const result = await deliverByHand(bed, party.identity, bel, K.MESSAGE_KIND_TRACE_REQUEST, body);
      if (result.status !== 'rejected') throw new Error('accepted');
      expect(result.error.code).toBe(ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE);
      expect(result.error.grpc).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(result.error.violations.map((v) => v.field)).toEqual(fields.map((f) => `body.${f}`));
      expect(await caseStorage(bel)).toEqual(before);
    },
  );

  it("a peer's second request with a trace id it used already is REJECTED (ALREADY_EXISTS, body.trace_id, unique_trace); the first case stays alone (protocol 12.4)", async () => {
    const bel = bed.node('BEL');
    const traceId = randomTraceId();
    const first = await deliverByHand(
      bed,
      party.identity,
      bel,
      K.MESSAGE_KIND_TRACE_REQUEST,
      TraceRequest.encode({ ...without(() => undefined, traceId) }).finish(),
    );
    expect(first.status).toBe('accepted');
    const before = await caseStorage(bel);
    const again = await deliverByHand(
      bed,
      party.identity,
      bel,
      K.MESSAGE_KIND_TRACE_REQUEST,
      TraceRequest.encode({ ...without(() => undefined, traceId), caseReference: 'another case' }).finish(),
    );
    if (again.status !== 'rejected') throw new Error('the reused trace id was accepted');
    expect(again.error).toMatchObject({
      code: ErrorCode.ERROR_CODE_ALREADY_EXISTS,
      field: 'body.trace_id',
      rule: 'unique_trace',
    });
    expect(await caseStorage(bel)).toEqual(before);
  });

  it('an unmarked weapon (ITI para 6, not marked) needs no serial number or manufacturer', async () => {
    const unmarked = request(markings({ serialNumber: '', manufacturer: '' }), {
      illicitCriteria: [{ kind: IllicitKind.ILLICIT_KIND_NOT_MARKED, legalBasis: 'ITI para 8' }],
    });
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: 'BEL', request: unmarked, send: false });
    expect(c?.state).toBe(S.CASE_STATE_DRAFT);
  });

  it('an urgent request with a justification is accepted', async () => {
    const urgent = request(FNX, {
      priority: Priority.PRIORITY_URGENT,
      urgencyJustification: 'suspect in custody until Friday',
    });
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: 'BEL', request: urgent, send: false });
    expect(c?.request?.priority).toBe(Priority.PRIORITY_URGENT);
  });

  it('ListCases leaves out the bytes of photos, keeping their type and caption; GetCase has them (protocol 12.10)', async () => {
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(200_000, 7)]);
    const pictured = request(FNX);
    pictured.weapon = {
      ...(pictured.weapon as NonNullable<TraceRequest['weapon']>),
      photos: [{ mediaType: 'image/jpeg', content: jpeg, caption: 'left side of the slide' }],
    };
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: 'BEL', request: pictured, send: false });
    const listed = (await bed.cases('FRA').call('listCases', ListCasesRequest.fromPartial({ limit: 500 }))).cases.find(
      (x) => x.caseId === c?.caseId,
    );
    expect(listed?.request?.weapon?.photos).toEqual([
      { mediaType: 'image/jpeg', content: Buffer.alloc(0), caption: 'left side of the slide' },
    ]);
    const got = await bed.cases('FRA').call('getCase', { caseId: c?.caseId ?? '' });
    expect(got.case?.request?.weapon?.photos[0]?.content.length).toBe(jpeg.length);
  });
});

describe('per-peer policy', () => {
  let bed: Bed;
  let party: Party;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL']);
    party = await bed.party('DEU', ['BEL']);
  });
  afterAll(() => bed?.cleanup());

  it('a peer without accept_requests is refused with KIND_NOT_ALLOWED (PERMISSION_DENIED) before its content is looked at', async () => {
    const bel = bed.node('BEL');
    const before = await caseStorage(bel);
    for (const body of [request(), without((r) => (r.intendedUse = ''))]) {
      const result = await deliverByHand(
        bed,
        party.identity,
        bel,
        K.MESSAGE_KIND_TRACE_REQUEST,
        TraceRequest.encode({ ...body, traceId: randomTraceId() }).finish(),
      );
      if (result.status !== 'rejected') throw new Error('accepted');
      expect(result.error.code).toBe(ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED);
      expect(result.error.grpc).toBe(GrpcStatus.PERMISSION_DENIED);
    }
    expect(await caseStorage(bel)).toEqual(before);
  });

  it('a negative acknowledgement or answer deadline is INVALID_FIELD (non_negative) naming that deadline; the policy stays (protocol 7.2, 12.5)', async () => {
    const bel = bed.node('BEL');
    const before = bel.policies.get('DEU');
    for (const [field, deadline] of [
      ['policy.acknowledge_within_ms', { acknowledgeWithinMs: -1 }],
      ['policy.answer_within_ms', { answerWithinMs: -1 }],
    ] as const) {
      await expect(
        bel.policies.set(PeerPolicy.fromPartial({ participantId: 'DEU', acceptRequests: true, ...deadline })),
      ).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field,
        rule: 'non_negative',
      });
    }
    expect(bel.policies.get('DEU')).toEqual(before);
  });

  it('a request to a node that does not accept ours fails for good in the outbox with KIND_NOT_ALLOWED', async () => {
    const fra = bed.node('FRA');
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: 'BEL', request: request(), send: true });
    await drained(fra);
    const failed: Array<Record<string, unknown>> = [];
    for await (const value of fra.store.outbox.failed.values()) failed.push(value);
    expect(failed.map((f) => [f.kind, f.lastError])).toEqual([[K.MESSAGE_KIND_TRACE_REQUEST, 'KIND_NOT_ALLOWED']]);
    expect((await bed.node('BEL').workflow.list()).cases).toEqual([]);
    // The requester's case tells the officer what happened.
    // (noted after the failure is stored, so wait for it rather than race it)
    await waitFor(
      async () => /KIND_NOT_ALLOWED/.test((await fra.workflow.get(c?.caseId ?? '')).timeline.at(-1)?.summary ?? ''),
      5_000,
      'the undelivered note',
    );
  });

  it('auto-acknowledge only: acknowledged at once, the answer waits for an officer; the acknowledgement carries both references', async () => {
    await bed.policy('BEL', 'FRA', { acceptRequests: true, autoAcknowledge: true });
    const fra = bed.node('FRA');
    const bel = bed.node('BEL');
    await bel.records.put(record(FNX, EXPORTED_TO_KEN));
    const { case: sent } = await bed
      .cases('FRA')
      .call('createCase', { recipient: 'BEL', request: request(FNX, { caseReference: 'OCLCO-ACK-1' }), send: true });
    const mine = await until(fra, sent?.caseId ?? '', [S.CASE_STATE_ACKNOWLEDGED]);
    const theirs = await until(bel, (await caseOfTrace(bel, mine.traceId)).caseId, [S.CASE_STATE_ACKNOWLEDGED]);
    expect(theirs.localReference).toMatch(/^BEL-2026-\d{6}$/);
    expect(theirs.peerReference).toBe('OCLCO-ACK-1');
    expect(mine.localReference).toBe('OCLCO-ACK-1');
    expect(mine.peerReference).toBe(theirs.localReference);
    // The message itself names both.
    let ack: TraceAcknowledgement | undefined;
    for await (const value of fra.store.messages.inbox.values())
      if (value.kind === K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT)
        ack = TraceAcknowledgement.decode(Buffer.from(String(value.body), 'base64'));
    expect(ack).toEqual({
      traceId: mine.traceId,
      requesterCaseReference: 'OCLCO-ACK-1',
      requestedCaseReference: theirs.localReference,
    });
    await bel.workflow.stop(); // settles automatic steps in progress: none may answer
    expect((await bel.workflow.get(theirs.caseId)).state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect((await bel.workflow.get(theirs.caseId)).answer).toBeUndefined();
  });
});

describe('auto-answer from records (composite identity, exactly one match)', () => {
  let bed: Bed;
  const FNC = markings({
    model: 'FNC',
    serialNumber: 'FNC-0001',
    type: WeaponType.WEAPON_TYPE_ASSAULT_RIFLE,
    calibre: '5.56x45mm',
    year: 2014,
  });
  const TWICE = markings({ serialNumber: 'DUP-0007' });
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL', 'KEN']);
    await bed.policy('BEL', 'FRA', { acceptRequests: true, autoAnswer: true });
    await bed.policy('KEN', 'FRA', { acceptRequests: true, autoAnswer: true });
    const bel = bed.node('BEL');
    await bel.records.put(record(FNX, EXPORTED_TO_KEN, WeaponStatus.WEAPON_STATUS_EXPORTED));
    await bel.records.put(
      record(
        FNC,
        [
          weaponEvent(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2014-02-01'),
          weaponEvent(E.WEAPON_EVENT_TYPE_STOLEN, '2020-01-09', { place: 'Liège' }),
        ],
        WeaponStatus.WEAPON_STATUS_STOLEN,
      ),
    );
    // Same serial, another manufacturer: a serial alone is not an identity.
    await bel.records.put(
      record(markings({ manufacturer: 'Glock', model: 'G17', calibre: '9x19mm' }), EXPORTED_TO_KEN),
    );
    await bel.records.put(record(TWICE, EXPORTED_TO_KEN));
    await bel.records.put(record(TWICE, [weaponEvent(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2011-05-17')]));
    await bed.node('KEN').records.put(record(FNX, STOLEN_IN_KEN, WeaponStatus.WEAPON_STATUS_STOLEN));
  });
  afterAll(() => bed?.cleanup());

  async function send(to: string, m: ManufactureMarking): Promise<{ mine: Case; theirs: Case }> {
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: to, request: request(m), send: true });
    const sent = c as Case;
    const peer = bed.node(to);
    return { mine: sent, theirs: await caseOfTrace(peer, sent.traceId) };
  }

  it('export as the last event: REFERRED to the destination, with the export as basis', async () => {
    const { mine } = await send('BEL', FNX);
    const answered = await until(bed.node('FRA'), mine.caseId, [S.CASE_STATE_ANSWERED]);
    expect(answered.answer?.outcome).toBe(TraceOutcome.TRACE_OUTCOME_REFERRED);
    expect(answered.answer?.automatic).toBe(true);
    expect(answered.answer?.referral?.participant).toBe('KEN');
    expect(answered.answer?.referral?.basis).toBe(
      'exported 2012-03-14 to KEN under licence BE-EXP-2012-0413, end user Kenya Police Service',
    );
    // Only events are released: never the secondary marks or the record's notes (protocol 11.1, 12.8).
    const sent = JSON.stringify(TraceAnswer.toJSON(answered.answer as TraceAnswer));
    expect(sent).not.toContain('SECRET-7');
    expect(sent).not.toContain('INTERNAL-NOTE');
    expect(answered.answer?.details).toBe('');
    expect(answered.timeline.map((t) => t.toState)).toEqual([
      S.CASE_STATE_DRAFT,
      S.CASE_STATE_SENT,
      S.CASE_STATE_ACKNOWLEDGED,
      S.CASE_STATE_ANSWERED,
    ]);
  });

  it('theft after the last legal event: TRACED with the point of diversion', async () => {
    const { mine } = await send('BEL', FNC);
    const answered = await until(bed.node('FRA'), mine.caseId, [S.CASE_STATE_ANSWERED]);
    expect(answered.answer?.outcome).toBe(TraceOutcome.TRACE_OUTCOME_TRACED);
    expect(answered.answer?.lastLegalRecord).toBe('manufactured 2014-02-01');
    expect(answered.answer?.pointOfDiversion).toBe('stolen 2020-01-09 at Liège');
  });

  it('no exact match (other model): the case waits for an officer, with a note on its timeline', async () => {
    const { theirs } = await send('BEL', markings({ model: 'FNX-9' }));
    await waitFor(
      async () =>
        (await bed.node('BEL').workflow.get(theirs.caseId)).timeline.some((t) =>
          /no exact record match; waiting for an officer/.test(t.summary),
        ),
      10_000,
      'note',
    );
    const c = await bed.node('BEL').workflow.get(theirs.caseId);
    expect(c.state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect(c.answer).toBeUndefined();
  });

  it('two matching records: the case waits for an officer', async () => {
    const { theirs } = await send('BEL', TWICE);
    await waitFor(
      async () =>
        (await bed.node('BEL').workflow.get(theirs.caseId)).timeline.some((t) =>
          /2 records match; waiting for an officer/.test(t.summary),
        ),
      10_000,
      'note',
    );
    expect((await bed.node('BEL').workflow.get(theirs.caseId)).state).toBe(S.CASE_STATE_ACKNOWLEDGED);
  });

  it('an unmarked weapon cannot be matched: the case waits for an officer, with a note', async () => {
    const unmarked = request(markings({ serialNumber: '', manufacturer: '' }), {
      illicitCriteria: [{ kind: IllicitKind.ILLICIT_KIND_NOT_MARKED, legalBasis: 'ITI para 8' }],
    });
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: 'BEL', request: unmarked, send: true });
    const theirs = await caseOfTrace(bed.node('BEL'), (c as Case).traceId);
    await waitFor(
      async () =>
        (await bed.node('BEL').workflow.get(theirs.caseId)).timeline.some((t) =>
          /waiting for an officer/.test(t.summary),
        ),
      10_000,
      'note',
    );
    expect((await bed.node('BEL').workflow.get(theirs.caseId)).state).toBe(S.CASE_STATE_ACKNOWLEDGED);
  });

  it('follow-on from the referral: linked cases, one chain, in order; KEN traces to the theft', async () => {
    const fra = bed.node('FRA');
    const { mine: first } = await send('BEL', FNX);
    await until(fra, first.caseId, [S.CASE_STATE_ANSWERED]);
    const { case: next } = await bed
      .cases('FRA')
      .call('followOn', { caseId: first.caseId, intendedUse: '', otherInformation: 'referred by BEL', send: true });
    const second = next as Case;
    expect(second.peer).toBe('KEN');
    expect(second.previousCaseId).toBe(first.caseId);
    expect(second.chainId).toBe(first.chainId);
    expect(second.request?.previousTraceId).toBe(first.traceId);
    expect(second.request?.weapon?.otherInformation).toBe('referred by BEL');
    const traced = await until(fra, second.caseId, [S.CASE_STATE_ANSWERED]);
    expect(traced.answer?.outcome).toBe(TraceOutcome.TRACE_OUTCOME_TRACED);
    expect(traced.answer?.pointOfDiversion).toBe('stolen 2019-08-03 at Nairobi by Kenya Police Service');
    expect((await fra.workflow.get(first.caseId)).nextCaseIds).toEqual([second.caseId]);
    const chain = await bed.cases('FRA').call('getTraceChain', { caseId: second.caseId });
    expect(chain.chainId).toBe(first.traceId);
    expect(chain.cases.map((c) => [c.caseId, c.peer])).toEqual([
      [first.caseId, 'BEL'],
      [second.caseId, 'KEN'],
    ]);
    // KEN's case knows the chain it belongs to.
    const atKen = await caseOfTrace(bed.node('KEN'), second.traceId);
    expect(atKen.chainId).toBe(first.traceId);
    // Another requester naming the same chain id does not join FRA's chain on KEN.
    await bed.policy('KEN', 'BEL', { acceptRequests: true });
    const { case: other } = await bed
      .cases('BEL')
      .call('createCase', { recipient: 'KEN', request: request(FNX, { chainId: first.traceId }), send: true });
    const otherAtKen = await caseOfTrace(bed.node('KEN'), (other as Case).traceId);
    expect(otherAtKen.chainId).toBe(first.traceId);
    expect((await bed.cases('KEN').call('getTraceChain', { caseId: atKen.caseId })).cases.map((c) => c.caseId)).toEqual(
      [atKen.caseId],
    );
    expect(
      (await bed.cases('KEN').call('getTraceChain', { caseId: otherAtKen.caseId })).cases.map((c) => c.caseId),
    ).toEqual([otherAtKen.caseId]);
  });

  it('a restriction whose partial answer refers the trace allows the follow-on', async () => {
    const fra = bed.node('FRA');
    const { mine, theirs } = await send('BEL', markings({ model: 'FNX-9' }));
    await until(bed.node('BEL'), theirs.caseId, [S.CASE_STATE_ACKNOWLEDGED]);
    await bed.cases('BEL').call('restrictCase', {
      caseId: theirs.caseId,
      reason: ReasonCode.REASON_CODE_LEGAL_CONFIDENTIALITY,
      explanation: 'the end user is protected by commercial confidentiality',
      partialAnswer: {
        caseId: '',
        outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
        lastLegalRecord: '',
        pointOfDiversion: '',
        referral: { participant: 'KEN', basis: 'exported to KEN in 2012', event: undefined },
        history: [],
        details: '',
        restrictions: undefined,
        release: [],
      },
    });
    const restricted = await until(fra, mine.caseId, [S.CASE_STATE_RESTRICTED]);
    expect(restricted.restriction?.reason).toBe(ReasonCode.REASON_CODE_LEGAL_CONFIDENTIALITY);
    expect(restricted.restriction?.partialAnswer?.referral?.participant).toBe('KEN');
    const { case: next } = await bed
      .cases('FRA')
      .call('followOn', { caseId: mine.caseId, intendedUse: '', otherInformation: '', send: false });
    expect([next?.peer, next?.previousCaseId, next?.state]).toEqual(['KEN', mine.caseId, S.CASE_STATE_DRAFT]);
  });

  it('follow-on is refused unless the answer referred the trace elsewhere', async () => {
    const fra = bed.node('FRA');
    const { mine: traced } = await send('BEL', FNC);
    await until(fra, traced.caseId, [S.CASE_STATE_ANSWERED]);
    const { mine: waiting, theirs } = await send('BEL', markings({ model: 'FNX-9' }));
    await until(fra, waiting.caseId, [S.CASE_STATE_ACKNOWLEDGED]);
    for (const caseId of [traced.caseId, waiting.caseId]) {
      const error = await failure(
        bed.cases('FRA').call('followOn', { caseId, intendedUse: '', otherInformation: '', send: true }),
      );
      expect(error.code).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);
      expect(error.grpc).toBe(GrpcStatus.FAILED_PRECONDITION);
    }
    // Nor from the requested side's case.
    const error = await failure(
      bed.cases('BEL').call('followOn', { caseId: theirs.caseId, intendedUse: '', otherInformation: '', send: true }),
    );
    expect(error.code).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);
    expect((await fra.workflow.get(traced.caseId)).nextCaseIds).toEqual([]);
  });

  it('a second follow-on of the same referral is refused', async () => {
    const fra = bed.node('FRA');
    const { mine: first } = await send('BEL', FNX);
    await until(fra, first.caseId, [S.CASE_STATE_ANSWERED]);
    await bed
      .cases('FRA')
      .call('followOn', { caseId: first.caseId, intendedUse: '', otherInformation: '', send: false });
    const error = await failure(
      bed.cases('FRA').call('followOn', { caseId: first.caseId, intendedUse: '', otherInformation: '', send: false }),
    );
    expect(error.code).toBe(ErrorCode.ERROR_CODE_ALREADY_EXISTS);
    expect((await fra.workflow.get(first.caseId)).nextCaseIds).toHaveLength(1);
  });

  it("the owner's manufacturer alias table applies to automatic answers and to SearchRecords, as to lookups (protocol 11.3, 13.5)", async () => {
    const bel = bed.node('BEL');
    const records = connectUnary<RecordsServer>(
      RecordsClient,
      bel.authorityAddress,
      await readAuthorityToken(bed.test('BEL').dataDir),
    );
    const search = async (manufacturer: string) =>
      (
        await records.call('searchRecords', {
          query: { manufacturer, model: '', serialNumber: FNC.serialNumber, calibre: '', type: 0 },
          serialOnly: false,
          limit: 0,
        })
      ).records.length;
    try {
      expect(await search('Fabrique Nationale')).toBe(0);
      await bel.lookups.aliases.load(Buffer.from('FN Herstal,FN,Fabrique Nationale\n'));
      expect(await search('Fabrique Nationale')).toBe(1);
      const { mine } = await send('BEL', markings({ ...FNC, manufacturer: 'Fabrique Nationale' }));
      const answered = await until(bed.node('FRA'), mine.caseId, [S.CASE_STATE_ANSWERED]);
      expect([answered.answer?.automatic, answered.answer?.lastLegalRecord]).toEqual([true, 'manufactured 2014-02-01']);
    } finally {
      await bel.lookups.aliases.load(Buffer.from(''));
      records.close();
    }
  });
});

describe('officer steps and illegal transitions', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL']);
    await bed.policy('BEL', 'FRA', { acceptRequests: true });
  });
  afterAll(() => bed?.cleanup());

  async function received(): Promise<{ mine: Case; theirs: Case }> {
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: 'BEL', request: request(), send: true });
    const mine = c as Case;
    return { mine, theirs: await caseOfTrace(bed.node('BEL'), mine.traceId) };
  }

  it('answering before acknowledging is refused with FAILED_PRECONDITION over gRPC; nothing changes', async () => {
    const { theirs } = await received();
    const error = await failure(
      bed.cases('BEL').call('answerCase', {
        caseId: theirs.caseId,
        outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
        lastLegalRecord: '',
        pointOfDiversion: '',
        referral: undefined,
        history: [],
        details: '',
        restrictions: undefined,
        release: [],
      }),
    );
    expect(error.code).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);
    expect(error.grpc).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(error.rule).toBe('received+trace_answer');
    const after = await bed.node('BEL').workflow.get(theirs.caseId);
    expect(after.state).toBe(S.CASE_STATE_RECEIVED);
    expect(after.timeline).toHaveLength(1);
    // The requester cannot answer its own request either.
    const wrongSide = await failure(
      bed.cases('FRA').call('acknowledgeCase', {
        caseId: (await bed.node('FRA').workflow.list({ role: CaseRole.CASE_ROLE_REQUESTER })).cases[0]?.caseId ?? '',
        reference: '',
      }),
    );
    expect(wrongSide.code).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);
  });

  it('delay, restriction and refusal without a reason code or an explanation are refused naming the field', async () => {
    const { theirs } = await received();
    await bed.cases('BEL').call('acknowledgeCase', { caseId: theirs.caseId, reference: 'BEL-REF-1' });
    const cases = bed.cases('BEL');
    const caseId = theirs.caseId;
    const none = ReasonCode.REASON_CODE_UNSPECIFIED;
    const why = ReasonCode.REASON_CODE_ONGOING_CRIMINAL_INVESTIGATION;
    const attempts: Array<[string, Promise<unknown>, string[]]> = [
      ['delay', cases.call('delayCase', { caseId, reason: none, explanation: 'x', expectedBy: '' }), ['delay.reason']],
      [
        'delay',
        cases.call('delayCase', { caseId, reason: why, explanation: '  ', expectedBy: '' }),
        ['delay.explanation'],
      ],
      [
        'restriction',
        cases.call('restrictCase', { caseId, reason: none, explanation: '', partialAnswer: undefined }),
        ['restriction.reason', 'restriction.explanation'],
      ],
      ['refusal', cases.call('refuseCase', { caseId, reason: none, explanation: 'x' }), ['refusal.reason']],
      ['refusal', cases.call('refuseCase', { caseId, reason: why, explanation: '' }), ['refusal.explanation']],
    ];
    for (const [what, attempt, fields] of attempts) {
      const error = await failure(attempt);
      expect(error.code, what).toBe(ErrorCode.ERROR_CODE_MISSING_FIELD);
      expect(error.grpc).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(error.violations.map((v) => v.field)).toEqual(fields);
    }
    const after = await bed.node('BEL').workflow.get(caseId);
    expect(after.state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect(after.delay ?? after.restriction ?? after.refusal).toBeUndefined();
  });

  it('an answer without its outcome, or a referral without participant and basis, is refused', async () => {
    const { theirs } = await received();
    await bed.cases('BEL').call('acknowledgeCase', { caseId: theirs.caseId, reference: '' });
    const base = {
      caseId: theirs.caseId,
      lastLegalRecord: '',
      pointOfDiversion: '',
      history: [],
      details: '',
      restrictions: undefined,
      release: [],
    };
    const noOutcome = await failure(
      bed
        .cases('BEL')
        .call('answerCase', { ...base, outcome: TraceOutcome.TRACE_OUTCOME_UNSPECIFIED, referral: undefined }),
    );
    expect(noOutcome.violations.map((v) => v.field)).toEqual(['answer.outcome']);
    const referral = await failure(
      bed
        .cases('BEL')
        .call('answerCase', { ...base, outcome: TraceOutcome.TRACE_OUTCOME_REFERRED, referral: undefined }),
    );
    expect(referral.violations.map((v) => v.field)).toEqual(['answer.referral.participant', 'answer.referral.basis']);
    const traced = await failure(
      bed.cases('BEL').call('answerCase', { ...base, outcome: TraceOutcome.TRACE_OUTCOME_TRACED, referral: undefined }),
    );
    expect(traced.violations.map((v) => v.field)).toEqual(['answer.last_legal_record']);
    expect((await bed.node('BEL').workflow.get(theirs.caseId)).state).toBe(S.CASE_STATE_ACKNOWLEDGED);
  });

  it("a peer's delay, restriction or refusal without reason code and explanation is REJECTED naming both", async () => {
    const fra = bed.node('FRA');
    const bel = bed.node('BEL');
    const before = await caseStorage(bel);
    const traceId = randomTraceId();
    const bodies: Array<[MessageKind, Uint8Array]> = [
      [
        K.MESSAGE_KIND_TRACE_DELAY,
        DelayNotice.encode({
          traceId,
          reason: ReasonCode.REASON_CODE_UNSPECIFIED,
          explanation: '',
          expectedBy: '',
        }).finish(),
      ],
      [
        K.MESSAGE_KIND_TRACE_RESTRICTION,
        Restriction.encode({
          traceId,
          reason: ReasonCode.REASON_CODE_UNSPECIFIED,
          explanation: '',
          partialAnswer: undefined,
        }).finish(),
      ],
      [
        K.MESSAGE_KIND_TRACE_REFUSAL,
        Refusal.encode({ traceId, reason: ReasonCode.REASON_CODE_UNSPECIFIED, explanation: ' ' }).finish(),
      ],
    ];
    for (const [kind, body] of bodies) {
      const result = await deliverByHand(bed, fra.identity, bel, kind, body);
      if (result.status !== 'rejected') throw new Error(`${K[kind]} accepted`);
      expect(result.error.code, K[kind]).toBe(ErrorCode.ERROR_CODE_MISSING_FIELD);
      expect(result.error.violations.map((v) => v.field)).toEqual(['body.reason', 'body.explanation']);
    }
    expect(await caseStorage(bel)).toEqual(before);
  });

  it('messages about an unknown trace are REJECTED with NOT_FOUND and a signed receipt', async () => {
    const fra = bed.node('FRA');
    const bel = bed.node('BEL');
    const before = await caseStorage(bel);
    const traceId = randomTraceId();
    const bodies: Array<[MessageKind, Uint8Array]> = [
      [K.MESSAGE_KIND_TRACE_WITHDRAWAL, Withdrawal.encode({ traceId, reason: 'no longer needed' }).finish()],
      [K.MESSAGE_KIND_TRACE_CLOSURE, Closure.encode({ traceId, useful: true, feedback: '' }).finish()],
      [
        K.MESSAGE_KIND_TRACE_ANSWER,
        TraceAnswer.encode({
          traceId,
          outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
          lastLegalRecord: '',
          pointOfDiversion: '',
          referral: undefined,
          history: [],
          details: '',
          automatic: false,
          restrictions: undefined,
          withheld: [],
        }).finish(),
      ],
      [
        K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT,
        TraceAcknowledgement.encode({ traceId, requesterCaseReference: '', requestedCaseReference: 'X-1' }).finish(),
      ],
    ];
    for (const [kind, body] of bodies) {
      const result = await deliverByHand(bed, fra.identity, bel, kind, body);
      if (result.status !== 'rejected') throw new Error(`${K[kind]} accepted`);
      expect(result.error.code, K[kind]).toBe(ErrorCode.ERROR_CODE_NOT_FOUND);
      expect(result.error.grpc).toBe(GrpcStatus.NOT_FOUND);
    }
    expect(await caseStorage(bel)).toEqual(before);
  });

  it('a message about a trace with another participant is NOT_FOUND, as if the trace did not exist', async () => {
    const bel = bed.node('BEL');
    const party = await bed.party('KEN', ['BEL']);
    // A trace FRA opened with BEL: KEN claims to withdraw it.
    const { mine } = await received();
    // A trace BEL opened with FRA: KEN claims to acknowledge and answer it.
    const { case: ours } = await bed
      .cases('BEL')
      .call('createCase', { recipient: 'FRA', request: request(), send: true });
    const traceId = (ours as Case).traceId;
    const attempts: Array<[MessageKind, Uint8Array]> = [
      [K.MESSAGE_KIND_TRACE_WITHDRAWAL, Withdrawal.encode({ traceId: mine.traceId, reason: 'hijack' }).finish()],
      [
        K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT,
        TraceAcknowledgement.encode({ traceId, requesterCaseReference: '', requestedCaseReference: 'KEN-1' }).finish(),
      ],
      [
        K.MESSAGE_KIND_TRACE_ANSWER,
        TraceAnswer.encode(
          TraceAnswer.fromPartial({ traceId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
        ).finish(),
      ],
    ];
    for (const [kind, body] of attempts) {
      const result = await deliverByHand(bed, party.identity, bel, kind, body);
      if (result.status !== 'rejected') throw new Error(`${K[kind]} accepted`);
      expect(result.error.code, K[kind]).toBe(ErrorCode.ERROR_CODE_NOT_FOUND);
      expect(result.error.rule).toBe('known_trace');
    }
    const after = await bel.workflow.get((ours as Case).caseId);
    expect([after.state, after.peerReference, after.answer]).toEqual([S.CASE_STATE_SENT, '', undefined]);
  });

  it('messages about a closed or a withdrawn case are REJECTED with CASE_CLOSED and a signed receipt', async () => {
    const fra = bed.node('FRA');
    const bel = bed.node('BEL');
    // Closed: acknowledged, answered, closed by FRA.
    const closed = await received();
    await bed.cases('BEL').call('acknowledgeCase', { caseId: closed.theirs.caseId, reference: '' });
    await bed.cases('BEL').call('answerCase', {
      caseId: closed.theirs.caseId,
      outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
      lastLegalRecord: '',
      pointOfDiversion: '',
      referral: undefined,
      history: [],
      details: '',
      restrictions: undefined,
      release: [],
    });
    await until(fra, closed.mine.caseId, [S.CASE_STATE_ANSWERED]);
    await bed.cases('FRA').call('closeCase', { caseId: closed.mine.caseId, useful: false, feedback: 'no record' });
    await until(bel, closed.theirs.caseId, [S.CASE_STATE_CLOSED]);
    // Withdrawn by FRA while BEL had only received it.
    const withdrawn = await received();
    await bed.cases('FRA').call('withdrawCase', { caseId: withdrawn.mine.caseId, reason: 'suspect confessed' });
    const w = await until(bel, withdrawn.theirs.caseId, [S.CASE_STATE_WITHDRAWN]);
    expect(w.withdrawal?.reason).toBe('suspect confessed');
    await drained(fra);
    await drained(bel);

    for (const { mine, theirs } of [closed, withdrawn]) {
      const before = await bel.workflow.get(theirs.caseId);
      const attempts: Array<[MessageKind, Uint8Array]> = [
        [K.MESSAGE_KIND_TRACE_WITHDRAWAL, Withdrawal.encode({ traceId: mine.traceId, reason: 'again' }).finish()],
        [K.MESSAGE_KIND_TRACE_CLOSURE, Closure.encode({ traceId: mine.traceId, useful: true, feedback: '' }).finish()],
      ];
      for (const [kind, body] of attempts) {
        const result = await deliverByHand(bed, fra.identity, bel, kind, body);
        if (result.status !== 'rejected') throw new Error(`${K[kind]} accepted`);
        expect(result.error.code, K[kind]).toBe(ErrorCode.ERROR_CODE_CASE_CLOSED);
        expect(result.error.grpc).toBe(GrpcStatus.FAILED_PRECONDITION);
      }
      expect(await bel.workflow.get(theirs.caseId)).toEqual(before);
      // And locally: every step is refused.
      const local = await failure(
        bed
          .cases('BEL')
          .call('refuseCase', { caseId: theirs.caseId, reason: ReasonCode.REASON_CODE_OTHER, explanation: 'x' }),
      );
      expect(local.code).toBe(ErrorCode.ERROR_CODE_CASE_CLOSED);
      expect(local.grpc).toBe(GrpcStatus.FAILED_PRECONDITION);
    }
  });

  it('a clarification round: BEL asks, FRA replies, BEL answers', async () => {
    const fra = bed.node('FRA');
    const bel = bed.node('BEL');
    const { mine, theirs } = await received();
    await bed.cases('BEL').call('acknowledgeCase', { caseId: theirs.caseId, reference: '' });
    await bed.cases('BEL').call('requestClarification', {
      caseId: theirs.caseId,
      question: 'Is the slide marked FNX-45 or FNX-45 Tactical?',
    });
    const asked = await until(fra, mine.caseId, [S.CASE_STATE_CLARIFICATION]);
    expect(asked.clarifications.map((q) => q.question)).toEqual(['Is the slide marked FNX-45 or FNX-45 Tactical?']);
    // BEL cannot answer while its question is open.
    const early = await failure(
      bed.cases('BEL').call('answerCase', {
        caseId: theirs.caseId,
        outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
        lastLegalRecord: '',
        pointOfDiversion: '',
        referral: undefined,
        history: [],
        details: '',
        restrictions: undefined,
        release: [],
      }),
    );
    expect(early.code).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);
    await bed
      .cases('FRA')
      .call('replyClarification', { caseId: mine.caseId, answer: 'FNX-45 Tactical', weapon: undefined });
    const replied = await until(bel, theirs.caseId, [S.CASE_STATE_ACKNOWLEDGED]);
    expect(replied.clarifications.map((q) => q.answer)).toEqual(['FNX-45 Tactical']);
    // A reply when no question is open is refused.
    const again = await failure(
      bed.cases('FRA').call('replyClarification', { caseId: mine.caseId, answer: 'again', weapon: undefined }),
    );
    expect(again.code).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);
    // A reply naming no open question, sealed by hand, is rejected.
    await drained(fra);
    await bed.cases('BEL').call('requestClarification', { caseId: theirs.caseId, question: 'Photo of the frame?' });
    await until(fra, mine.caseId, [S.CASE_STATE_CLARIFICATION]);
    const forged = await deliverByHand(
      bed,
      fra.identity,
      bel,
      K.MESSAGE_KIND_CLARIFICATION_REPLY,
      ClarificationReply.encode({
        traceId: mine.traceId,
        clarificationId: 'not-a-question',
        answer: 'x',
        weapon: undefined,
      }).finish(),
    );
    expect(forged.status === 'rejected' && forged.error.code).toBe(ErrorCode.ERROR_CODE_INVALID_FIELD);
    await bed
      .cases('FRA')
      .call('replyClarification', { caseId: mine.caseId, answer: 'none available', weapon: undefined });
    await until(bel, theirs.caseId, [S.CASE_STATE_ACKNOWLEDGED]);
    await bed.cases('BEL').call('answerCase', {
      caseId: theirs.caseId,
      outcome: TraceOutcome.TRACE_OUTCOME_INSUFFICIENT_INFORMATION,
      lastLegalRecord: '',
      pointOfDiversion: '',
      referral: undefined,
      history: [],
      details: 'no such variant',
      restrictions: undefined,
      release: [],
    });
    const answered = await until(fra, mine.caseId, [S.CASE_STATE_ANSWERED]);
    expect(answered.answer?.outcome).toBe(TraceOutcome.TRACE_OUTCOME_INSUFFICIENT_INFORMATION);
    expect(answered.timeline.map((t) => t.toState)).toEqual([
      S.CASE_STATE_DRAFT,
      S.CASE_STATE_SENT,
      S.CASE_STATE_ACKNOWLEDGED,
      S.CASE_STATE_CLARIFICATION,
      S.CASE_STATE_ACKNOWLEDGED,
      S.CASE_STATE_CLARIFICATION,
      S.CASE_STATE_ACKNOWLEDGED,
      S.CASE_STATE_ANSWERED,
    ]);
  });
});

describe('received messages: direction, bodies of kinds 14–17, received use restrictions', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL']);
    await bed.policy('BEL', 'FRA', { acceptRequests: true });
  });
  afterAll(() => bed?.cleanup());

  // Both an AnswerCaseRequest (release) and a TraceAnswer (withheld) spread it.
  const NO_RECORD = {
    outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
    lastLegalRecord: '',
    pointOfDiversion: '',
    referral: undefined,
    history: [],
    details: '',
    restrictions: undefined,
    release: [] as string[],
    withheld: [],
  };
  const OTHER = { reason: ReasonCode.REASON_CODE_OTHER, explanation: 'ongoing proceedings' };

  /** FRA asks BEL and BEL acknowledges; with `answer`, BEL also answers (no record). Both outboxes are drained. */
  async function trace(answer: boolean): Promise<{ mine: Case; theirs: Case }> {
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: 'BEL', request: request(), send: true });
    const mine = c as Case;
    const theirs = await caseOfTrace(bed.node('BEL'), mine.traceId);
    await bed.cases('BEL').call('acknowledgeCase', { caseId: theirs.caseId, reference: '' });
    if (answer) await bed.cases('BEL').call('answerCase', { caseId: theirs.caseId, ...NO_RECORD });
    await until(bed.node('FRA'), mine.caseId, [answer ? S.CASE_STATE_ANSWERED : S.CASE_STATE_ACKNOWLEDGED]);
    await drained(bed.node('FRA'));
    await drained(bed.node('BEL'));
    return { mine, theirs: await bed.node('BEL').workflow.get(theirs.caseId) };
  }

  /** Delivers by hand and returns the refusal's [code, field, rule]; fails when accepted. */
  async function refused(
    from: string,
    to: string,
    kind: MessageKind,
    body: Uint8Array,
    messageId?: string,
  ): Promise<[string, string, string]> {
    const result = await deliverByHand(bed, bed.node(from).identity, bed.node(to), kind, body, messageId);
    if (result.status !== 'rejected') throw new Error(`${K[kind]} accepted`);
    return [result.error.codeName, result.error.field, result.error.rule];
  }

  it('a kind sent in the wrong direction names no trace of the receiver: NOT_FOUND (known_trace) for every kind; nothing changes (protocol 12.1)', async () => {
    const { mine, theirs } = await trace(true);
    const t = mine.traceId;
    const now = bed.clock.now();
    // FRA requested the trace: it sends what only the requested side sends, naming it.
    const fromRequester: Array<[MessageKind, Uint8Array]> = [
      [
        K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT,
        TraceAcknowledgement.encode({
          traceId: t,
          requesterCaseReference: '',
          requestedCaseReference: 'FRA-1',
        }).finish(),
      ],
      [
        K.MESSAGE_KIND_CLARIFICATION_REQUEST,
        ClarificationRequest.encode({ traceId: t, clarificationId: 'q-1', question: 'which variant?' }).finish(),
      ],
      [K.MESSAGE_KIND_TRACE_ANSWER, TraceAnswer.encode({ traceId: t, ...NO_RECORD, automatic: false }).finish()],
      [K.MESSAGE_KIND_TRACE_DELAY, DelayNotice.encode({ traceId: t, ...OTHER, expectedBy: '' }).finish()],
      [
        K.MESSAGE_KIND_TRACE_RESTRICTION,
        Restriction.encode({ traceId: t, ...OTHER, partialAnswer: undefined }).finish(),
      ],
      [K.MESSAGE_KIND_TRACE_REFUSAL, Refusal.encode({ traceId: t, ...OTHER }).finish()],
      [
        K.MESSAGE_KIND_CONSENT_DECISION,
        ConsentDecision.encode({ traceId: t, consentId: 'consent-1', granted: true, conditions: '' }).finish(),
      ],
    ];
    // BEL was asked: it sends what only the requester sends, naming the same trace.
    const fromRequested: Array<[MessageKind, Uint8Array]> = [
      [
        K.MESSAGE_KIND_CLARIFICATION_REPLY,
        ClarificationReply.encode({
          traceId: t,
          clarificationId: 'q-1',
          answer: 'the tactical one',
          weapon: undefined,
        }).finish(),
      ],
      [K.MESSAGE_KIND_TRACE_WITHDRAWAL, Withdrawal.encode({ traceId: t, reason: '' }).finish()],
      [K.MESSAGE_KIND_TRACE_CLOSURE, Closure.encode({ traceId: t, useful: true, feedback: '' }).finish()],
      [
        K.MESSAGE_KIND_CONSENT_REQUEST,
        ConsentRequest.encode({
          traceId: t,
          consentId: 'consent-1',
          thirdParticipant: 'KEN',
          reason: 'the panel asks',
        }).finish(),
      ],
      [
        K.MESSAGE_KIND_DISCLOSURE_NOTICE,
        DisclosureNotice.encode({ traceId: t, thirdParticipant: 'KEN', disclosedAtMs: now, basis: 'listed' }).finish(),
      ],
    ];
    const before = [await bed.node('FRA').workflow.get(mine.caseId), await bed.node('BEL').workflow.get(theirs.caseId)];
    for (const [from, to, messages] of [
      ['FRA', 'BEL', fromRequester],
      ['BEL', 'FRA', fromRequested],
    ] as const) {
      for (const [kind, body] of messages)
        expect(await refused(from, to, kind, body), K[kind]).toEqual(['NOT_FOUND', 'body.trace_id', 'known_trace']);
    }
    expect([
      await bed.node('FRA').workflow.get(mine.caseId),
      await bed.node('BEL').workflow.get(theirs.caseId),
    ]).toEqual(before);
  });

  it('kinds 14–17: each body rule is REJECTED naming its field, before the trace is looked up, and for good (protocol 14.4)', async () => {
    const t = randomTraceId();
    const restrictions = {
      purpose: '',
      onwardDisclosure: OnwardDisclosure.ONWARD_DISCLOSURE_WITH_CONSENT,
      listedParticipants: [],
      retentionDays: 30,
    };
    const answer = { traceId: t, ...NO_RECORD, automatic: false };
    const consent = (changes: Partial<ConsentRequest>) =>
      ConsentRequest.encode({
        traceId: t,
        consentId: 'consent-1',
        thirdParticipant: 'KEN',
        reason: 'the panel asks',
        ...changes,
      }).finish();
    const notice = (changes: Partial<DisclosureNotice>) =>
      DisclosureNotice.encode({
        traceId: t,
        thirdParticipant: 'KEN',
        disclosedAtMs: bed.clock.now(),
        basis: 'listed',
        ...changes,
      }).finish();
    const shared = (changes: Partial<SharedInformation>) =>
      SharedInformation.encode({
        provider: 'KEN',
        providerTraceId: t,
        answer,
        restrictions,
        note: '',
        ...changes,
      }).finish();
    // disclosed_at_ms = 2^53, encoded by hand: no JavaScript number holds it exactly.
    const lateNotice = new BinaryWriter()
      .raw(notice({ disclosedAtMs: 0 }))
      .tag(3, WireType.Varint)
      .int64(2n ** 53n)
      .finish();
    const cases: Array<[MessageKind, string, string, Uint8Array, [string, string, string]]> = [
      [
        K.MESSAGE_KIND_CONSENT_REQUEST,
        'FRA',
        'BEL',
        consent({ consentId: ' ' }),
        ['MISSING_FIELD', 'body.consent_id', 'required'],
      ],
      [
        K.MESSAGE_KIND_CONSENT_REQUEST,
        'FRA',
        'BEL',
        consent({ consentId: 'c'.repeat(65) }),
        ['MISSING_FIELD', 'body.consent_id', 'max_length'],
      ],
      [
        K.MESSAGE_KIND_CONSENT_REQUEST,
        'FRA',
        'BEL',
        consent({ thirdParticipant: 'Kenya' }),
        ['INVALID_FIELD', 'body.third_participant', 'participant_id'],
      ],
      [
        K.MESSAGE_KIND_CONSENT_REQUEST,
        'FRA',
        'BEL',
        consent({ reason: '\n\t' }),
        ['MISSING_FIELD', 'body.reason', 'required'],
      ],
      [
        K.MESSAGE_KIND_CONSENT_REQUEST,
        'FRA',
        'BEL',
        consent({ reason: 'r'.repeat(5001) }),
        ['MISSING_FIELD', 'body.reason', 'max_length'],
      ],
      [
        K.MESSAGE_KIND_CONSENT_REQUEST,
        'FRA',
        'BEL',
        consent({ traceId: 'short' }),
        ['INVALID_FIELD', 'body.trace_id', 'trace_id'],
      ],
      [
        K.MESSAGE_KIND_CONSENT_DECISION,
        'BEL',
        'FRA',
        ConsentDecision.encode({ traceId: t, consentId: '', granted: true, conditions: '' }).finish(),
        ['MISSING_FIELD', 'body.consent_id', 'required'],
      ],
      [
        K.MESSAGE_KIND_DISCLOSURE_NOTICE,
        'FRA',
        'BEL',
        notice({ thirdParticipant: '' }),
        ['INVALID_FIELD', 'body.third_participant', 'participant_id'],
      ],
      [
        K.MESSAGE_KIND_DISCLOSURE_NOTICE,
        'FRA',
        'BEL',
        notice({ basis: ' ' }),
        ['MISSING_FIELD', 'body.basis', 'required'],
      ],
      [
        K.MESSAGE_KIND_DISCLOSURE_NOTICE,
        'FRA',
        'BEL',
        notice({ basis: 'b'.repeat(201) }),
        ['MISSING_FIELD', 'body.basis', 'max_length'],
      ],
      [
        K.MESSAGE_KIND_DISCLOSURE_NOTICE,
        'FRA',
        'BEL',
        lateNotice,
        ['INVALID_FIELD', 'body.disclosed_at_ms', 'safe_integer'],
      ],
      [
        K.MESSAGE_KIND_SHARED_INFORMATION,
        'FRA',
        'BEL',
        shared({ provider: 'belgium' }),
        ['INVALID_FIELD', 'body.provider', 'participant_id'],
      ],
      [
        K.MESSAGE_KIND_SHARED_INFORMATION,
        'FRA',
        'BEL',
        shared({ answer: undefined }),
        ['MISSING_FIELD', 'body.answer', 'required'],
      ],
      [
        K.MESSAGE_KIND_SHARED_INFORMATION,
        'FRA',
        'BEL',
        shared({ answer: { ...answer, outcome: TraceOutcome.TRACE_OUTCOME_UNSPECIFIED } }),
        ['INVALID_FIELD', 'body.answer.outcome', 'required'],
      ],
      [
        K.MESSAGE_KIND_SHARED_INFORMATION,
        'FRA',
        'BEL',
        shared({ restrictions: undefined }),
        ['MISSING_FIELD', 'body.restrictions', 'required'],
      ],
      [
        K.MESSAGE_KIND_SHARED_INFORMATION,
        'FRA',
        'BEL',
        shared({ restrictions: { ...restrictions, onwardDisclosure: OnwardDisclosure.ONWARD_DISCLOSURE_UNSPECIFIED } }),
        ['INVALID_FIELD', 'body.restrictions.onward_disclosure', 'enum'],
      ],
      [
        K.MESSAGE_KIND_SHARED_INFORMATION,
        'FRA',
        'BEL',
        shared({ restrictions: { ...restrictions, retentionDays: 0 } }),
        ['INVALID_FIELD', 'body.restrictions.retention_days', 'range'],
      ],
      [
        K.MESSAGE_KIND_SHARED_INFORMATION,
        'FRA',
        'BEL',
        shared({ providerTraceId: 'x' }),
        ['INVALID_FIELD', 'body.provider_trace_id', 'trace_id'],
      ],
    ];
    const storage = async () => [await caseStorage(bed.node('FRA')), await caseStorage(bed.node('BEL'))];
    const before = await storage();
    for (const [kind, from, to, body, expected] of cases)
      expect(await refused(from, to, kind, body), `${K[kind]} ${expected[1]}`).toEqual(expected);
    expect(await storage()).toEqual(before);
    // For good: the same message id with a correct body gets the same refusal back (protocol 4.6).
    const messageId = newMessageId();
    expect(await refused('FRA', 'BEL', K.MESSAGE_KIND_CONSENT_REQUEST, consent({ reason: ' ' }), messageId)).toEqual([
      'MISSING_FIELD',
      'body.reason',
      'required',
    ]);
    expect(await refused('FRA', 'BEL', K.MESSAGE_KIND_CONSENT_REQUEST, consent({}), messageId)).toEqual([
      'MISSING_FIELD',
      '',
      'rejected_before',
    ]);
  });

  it('kinds 14–16: refused in a state without an answer as the state machine refuses (field case_id), a reused consent id and a decision on no open request too', async () => {
    const acknowledged = await trace(false);
    const ask = (traceId: string, consentId = 'consent-1') =>
      ConsentRequest.encode({ traceId, consentId, thirdParticipant: 'KEN', reason: 'the panel asks' }).finish();
    expect(await refused('FRA', 'BEL', K.MESSAGE_KIND_CONSENT_REQUEST, ask(acknowledged.mine.traceId))).toEqual([
      'ILLEGAL_TRANSITION',
      'case_id',
      'acknowledged+consent_request',
    ]);
    await bed.cases('FRA').call('withdrawCase', { caseId: acknowledged.mine.caseId, reason: 'no longer needed' });
    await until(bed.node('BEL'), acknowledged.theirs.caseId, [S.CASE_STATE_WITHDRAWN]);
    expect(await refused('FRA', 'BEL', K.MESSAGE_KIND_CONSENT_REQUEST, ask(acknowledged.mine.traceId))).toEqual([
      'CASE_CLOSED',
      'case_id',
      'case_open',
    ]);

    const answered = await trace(true);
    expect(
      (
        await deliverByHand(
          bed,
          bed.node('FRA').identity,
          bed.node('BEL'),
          K.MESSAGE_KIND_CONSENT_REQUEST,
          ask(answered.mine.traceId),
        )
      ).status,
    ).toBe('accepted');
    expect(await refused('FRA', 'BEL', K.MESSAGE_KIND_CONSENT_REQUEST, ask(answered.mine.traceId))).toEqual([
      'ALREADY_EXISTS',
      'body.consent_id',
      'unique_consent',
    ]);
    const decision = ConsentDecision.encode({
      traceId: answered.mine.traceId,
      consentId: 'never-asked',
      granted: true,
      conditions: '',
    }).finish();
    expect(await refused('BEL', 'FRA', K.MESSAGE_KIND_CONSENT_DECISION, decision)).toEqual([
      'INVALID_FIELD',
      'body.consent_id',
      'open_consent',
    ]);
  });

  it('received use restrictions: invalid ones (an UNSPECIFIED onward disclosure) are REJECTED as body rules; an answer without any is held as WITH_CONSENT, 5 years (protocol 14.2)', async () => {
    const { mine } = await trace(false);
    const unspecified = {
      purpose: '',
      onwardDisclosure: OnwardDisclosure.ONWARD_DISCLOSURE_UNSPECIFIED,
      listedParticipants: [],
      retentionDays: 30,
    };
    const answer = (traceId: string, restrictions?: typeof unspecified) =>
      TraceAnswer.encode({ traceId, ...NO_RECORD, automatic: false, restrictions }).finish();
    expect(await refused('BEL', 'FRA', K.MESSAGE_KIND_TRACE_ANSWER, answer(mine.traceId, unspecified))).toEqual([
      'INVALID_FIELD',
      'body.restrictions.onward_disclosure',
      'enum',
    ]);
    // A body rule: checked before the trace is looked up.
    expect(await refused('BEL', 'FRA', K.MESSAGE_KIND_TRACE_ANSWER, answer(randomTraceId(), unspecified))).toEqual([
      'INVALID_FIELD',
      'body.restrictions.onward_disclosure',
      'enum',
    ]);
    const partial = Restriction.encode({
      traceId: mine.traceId,
      ...OTHER,
      partialAnswer: {
        traceId: '',
        ...NO_RECORD,
        automatic: false,
        restrictions: { ...unspecified, onwardDisclosure: OnwardDisclosure.ONWARD_DISCLOSURE_NONE, retentionDays: 0 },
        withheld: [],
      },
    }).finish();
    expect(await refused('BEL', 'FRA', K.MESSAGE_KIND_TRACE_RESTRICTION, partial)).toEqual([
      'INVALID_FIELD',
      'body.partial_answer.restrictions.retention_days',
      'range',
    ]);
    expect((await bed.node('FRA').workflow.get(mine.caseId)).state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    // No restrictions at all (a node older than section 14): accepted, held under the state default.
    expect(
      (
        await deliverByHand(
          bed,
          bed.node('BEL').identity,
          bed.node('FRA'),
          K.MESSAGE_KIND_TRACE_ANSWER,
          answer(mine.traceId),
        )
      ).status,
    ).toBe('accepted');
    const held = await bed.node('FRA').workflow.get(mine.caseId);
    expect(held.answer?.restrictions).toEqual({
      purpose: 'criminal investigation and prosecution',
      onwardDisclosure: OnwardDisclosure.ONWARD_DISCLOSURE_WITH_CONSENT,
      listedParticipants: [],
      retentionDays: 1825,
    });
  });

  it('a sender applies the same rules: an answer whose restrictions a receiver would refuse is refused at AnswerCase; nothing is sent', async () => {
    const { theirs } = await trace(false);
    const error = await failure(
      bed.cases('BEL').call('answerCase', {
        caseId: theirs.caseId,
        ...NO_RECORD,
        restrictions: {
          purpose: 'p'.repeat(2001),
          onwardDisclosure: OnwardDisclosure.ONWARD_DISCLOSURE_UNSPECIFIED,
          listedParticipants: [],
          retentionDays: 0,
        },
      }),
    );
    expect([error.code, error.field, error.rule]).toEqual([
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'answer.restrictions.purpose',
      'max_length',
    ]);
    expect((await bed.node('BEL').workflow.get(theirs.caseId)).state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect(await countEntries(bed.node('BEL').store.outbox.queue)).toBe(0);
  });
});

describe('deadlines from per-peer policy (ManualClock, no sleeping)', () => {
  let bed: Bed;
  const ACK_WITHIN = 2 * HOUR;
  const ANSWER_WITHIN = DAY;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL']);
    await bed.policy('BEL', 'FRA', {
      acceptRequests: true,
      acknowledgeWithinMs: ACK_WITHIN,
      answerWithinMs: ANSWER_WITHIN,
    });
    await bed.policy('FRA', 'BEL', { acknowledgeWithinMs: ACK_WITHIN, answerWithinMs: ANSWER_WITHIN });
  });
  afterAll(() => bed?.cleanup());

  async function received(): Promise<{ mine: Case; theirs: Case }> {
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: 'BEL', request: request(), send: true });
    const mine = c as Case;
    const theirs = await caseOfTrace(bed.node('BEL'), mine.traceId);
    await drained(bed.node('FRA'));
    return { mine, theirs };
  }

  const overdueEvents = async (node: TracenetNode, caseId: string) =>
    (await storedEvents(node)).filter(
      (e) => e.type === NodeEventType.NODE_EVENT_TYPE_CASE_OVERDUE && e.caseId === caseId,
    );
  const overdueIds = async (id: string) =>
    (
      await bed.cases(id).call('listCases', { role: 0, state: 0, peer: '', overdueOnly: true, limit: 0, cursor: '' })
    ).cases.map((c) => c.caseId);
  const checkBoth = async () => {
    await bed.node('FRA').workflow.checkDeadlines();
    await bed.node('BEL').workflow.checkDeadlines();
  };

  it('deadlines come from the policy on both sides', async () => {
    const start = bed.clock.now();
    const { mine, theirs } = await received();
    expect([mine.acknowledgeDueAtMs, mine.answerDueAtMs]).toEqual([start + ACK_WITHIN, start + ANSWER_WITHIN]);
    expect([theirs.acknowledgeDueAtMs, theirs.answerDueAtMs]).toEqual([start + ACK_WITHIN, start + ANSWER_WITHIN]);
    await bed.cases('BEL').call('acknowledgeCase', { caseId: theirs.caseId, reference: '' });
    await until(bed.node('FRA'), mine.caseId, [S.CASE_STATE_ACKNOWLEDGED]);
  });

  it('a late acknowledgement: overdue in listings on both sides, exactly one CASE_OVERDUE event per case, cleared by the acknowledgement', async () => {
    const { mine, theirs } = await received();
    bed.clock.advance(ACK_WITHIN);
    await checkBoth();
    expect(await overdueIds('FRA')).not.toContain(mine.caseId);
    bed.clock.advance(1);
    // Listings compute the flag at the time of the call, before any deadline check ran.
    expect(await overdueIds('FRA')).toContain(mine.caseId);
    expect(await overdueIds('BEL')).toContain(theirs.caseId);
    expect(await overdueEvents(bed.node('BEL'), theirs.caseId)).toEqual([]);
    await checkBoth();
    await checkBoth();
    bed.clock.advance(HOUR);
    await checkBoth();
    for (const [node, caseId] of [
      [bed.node('FRA'), mine.caseId],
      [bed.node('BEL'), theirs.caseId],
    ] as const) {
      const events = await overdueEvents(node, caseId);
      expect(events, node.identity.participantId).toHaveLength(1);
      expect(events[0]?.summary).toMatch(/^overdue: acknowledgement was due /);
      const c = await node.workflow.get(caseId);
      expect(c.overdue).toBe(true);
      expect(c.timeline.filter((t) => t.summary.startsWith('overdue:'))).toHaveLength(1);
    }
    await bed.cases('BEL').call('acknowledgeCase', { caseId: theirs.caseId, reference: '' });
    await until(bed.node('FRA'), mine.caseId, [S.CASE_STATE_ACKNOWLEDGED]);
    expect(await overdueIds('FRA')).not.toContain(mine.caseId);
    expect(await overdueIds('BEL')).not.toContain(theirs.caseId);
    expect((await bed.node('FRA').workflow.get(mine.caseId)).overdue).toBe(false);
  });

  it('a delay whose expected_by falls before the answer deadline leaves the deadline as it was on both sides (protocol 12.7)', async () => {
    const { mine, theirs } = await received();
    await bed.cases('BEL').call('acknowledgeCase', { caseId: theirs.caseId, reference: '' });
    const acknowledged = await until(bed.node('FRA'), mine.caseId, [S.CASE_STATE_ACKNOWLEDGED]);
    const due = acknowledged.answerDueAtMs;
    // The answer is due a day after the acknowledgement here: a date before it is yesterday's.
    const expectedBy = new Date(bed.clock.now() - DAY).toISOString().slice(0, 10);
    expect(Date.parse(`${expectedBy}T23:59:59.999Z`)).toBeLessThan(due);
    await bed.cases('BEL').call('delayCase', {
      caseId: theirs.caseId,
      reason: ReasonCode.REASON_CODE_ONGOING_CRIMINAL_INVESTIGATION,
      explanation: 'expected by a date already past',
      expectedBy,
    });
    const delayed = await until(bed.node('FRA'), mine.caseId, [S.CASE_STATE_DELAYED]);
    expect(delayed.delay?.expectedBy).toBe(expectedBy);
    expect(delayed.answerDueAtMs).toBe(due);
    expect((await bed.node('BEL').workflow.get(theirs.caseId)).answerDueAtMs).toBe(due);
  });

  it('a late answer is overdue; a delay with expected_by extends the answer deadline on both sides', async () => {
    const { mine, theirs } = await received();
    await bed.cases('BEL').call('acknowledgeCase', { caseId: theirs.caseId, reference: '' });
    await until(bed.node('FRA'), mine.caseId, [S.CASE_STATE_ACKNOWLEDGED]);
    // A second case is left without a delay, for comparison.
    const plain = await received();
    await bed.cases('BEL').call('acknowledgeCase', { caseId: plain.theirs.caseId, reference: '' });
    await until(bed.node('FRA'), plain.mine.caseId, [S.CASE_STATE_ACKNOWLEDGED]);

    const expectedBy = new Date(bed.clock.now() + 3 * DAY).toISOString().slice(0, 10);
    const endOfExpected = Date.parse(`${expectedBy}T23:59:59.999Z`);
    await bed.cases('BEL').call('delayCase', {
      caseId: theirs.caseId,
      reason: ReasonCode.REASON_CODE_ONGOING_CRIMINAL_INVESTIGATION,
      explanation: 'the export file is with the prosecutor',
      expectedBy,
    });
    const delayed = await until(bed.node('FRA'), mine.caseId, [S.CASE_STATE_DELAYED]);
    expect(delayed.delay?.expectedBy).toBe(expectedBy);
    expect(delayed.answerDueAtMs).toBe(endOfExpected);
    expect((await bed.node('BEL').workflow.get(theirs.caseId)).answerDueAtMs).toBe(endOfExpected);
    await drained(bed.node('BEL'));

    bed.clock.advance(ANSWER_WITHIN + HOUR);
    await checkBoth();
    expect(await overdueIds('FRA')).toContain(plain.mine.caseId);
    expect(await overdueIds('BEL')).toContain(plain.theirs.caseId);
    expect(await overdueIds('FRA')).not.toContain(mine.caseId);
    expect(await overdueIds('BEL')).not.toContain(theirs.caseId);
    expect((await overdueEvents(bed.node('BEL'), plain.theirs.caseId)).map((e) => e.summary)).toEqual([
      expect.stringMatching(/^overdue: answer was due /),
    ]);

    bed.clock.set(endOfExpected + 1);
    await checkBoth();
    await checkBoth();
    expect(await overdueIds('FRA')).toContain(mine.caseId);
    expect(await overdueEvents(bed.node('FRA'), mine.caseId)).toHaveLength(1);
    expect(await overdueEvents(bed.node('BEL'), theirs.caseId)).toHaveLength(1);

    await bed.cases('BEL').call('answerCase', {
      caseId: theirs.caseId,
      outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
      lastLegalRecord: '',
      pointOfDiversion: '',
      referral: undefined,
      history: [],
      details: '',
      restrictions: undefined,
      release: [],
    });
    const answered = await until(bed.node('FRA'), mine.caseId, [S.CASE_STATE_ANSWERED]);
    expect(answered.overdue).toBe(false);
    expect(await overdueIds('FRA')).not.toContain(mine.caseId);
  });
});

describe('WatchEvents', () => {
  let bed: Bed;
  let token: string;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL']);
    token = await readAuthorityToken(bed.test('BEL').dataDir);
  });
  afterAll(() => bed?.cleanup());

  /** Opens a WatchEvents stream on BEL after `after` and collects what arrives. */
  function watch(after: number, bearer = token, liveOnly = false) {
    const client = new AuthorityClient(bed.node('BEL').authorityAddress, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${bearer}`);
    const stream = client.watchEvents({ afterSequence: after, liveOnly }, metadata);
    const events: NodeEvent[] = [];
    let error: unknown;
    stream.on('data', (e: NodeEvent) => events.push(e));
    stream.on('error', (e: unknown) => (error = e));
    return {
      events,
      get error() {
        return error;
      },
      reached: (sequence: number) =>
        waitFor(
          () => (events.at(-1)?.sequence ?? after) >= sequence || error !== undefined,
          10_000,
          `event ${sequence}`,
        ),
      close() {
        stream.cancel();
        client.close();
      },
    };
  }

  /** `count` new draft cases on BEL: one CASE_CREATED event each. */
  const drafts = (count: number) =>
    Promise.all(Array.from({ length: count }, () => bed.node('BEL').workflow.createCase('FRA', request(), false)));
  const last = () => bed.node('BEL').journal.lastEventSequence;
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  /**
   * Writes one draft after another until stopped, so that events are being stored while a stream
   * opens and replays: the boundary between replay and live is crossed under load.
   */
  function writer() {
    let running = true;
    let written = 0;
    const done = (async () => {
      while (running) {
        await drafts(1);
        written += 1;
      }
    })();
    return {
      get written() {
        return written;
      },
      async stop() {
        running = false;
        await done;
      },
    };
  }

  it('live_only sends nothing stored, only the events committed after the call (protocol 7.3)', async () => {
    await drafts(3);
    const before = last();
    const stream = watch(0, token, true);
    // after_sequence does not hold back what is live, even one far ahead of the journal.
    const ahead = watch(before + 1_000_000, token, true);
    // The streams are open once a first live event arrives on each; until then drafts keep coming.
    let live = 0;
    await waitFor(
      async () => {
        await drafts(1);
        live += 1;
        return stream.events.length > 0 && ahead.events.length > 0;
      },
      10_000,
      'a live event',
    );
    await stream.reached(before + live);
    await waitFor(
      () => ahead.events.at(-1)?.sequence === before + live || ahead.error !== undefined,
      10_000,
      'the last',
    );
    for (const watcher of [stream, ahead]) {
      const sequences = watcher.events.map((e) => e.sequence);
      expect(sequences.every((n) => n > before)).toBe(true);
      expect(sequences).toEqual(range(sequences[0] ?? 0, before + live));
      watcher.close();
    }
  });

  it('replays after a sequence, continues live, and resumes from the last one seen without loss or repetition', async () => {
    // A long history, so that the replay takes a while.
    await drafts(400);
    const stored = last();
    let background = writer();
    const first = watch(0);
    try {
      await first.reached(stored);
      const atReplayEnd = background.written;
      await waitFor(() => background.written >= atReplayEnd + 20, 10_000, 'live events');
      await background.stop();
      await first.reached(last());
      expect(first.error).toBeUndefined();
      expect(first.events.map((e) => e.sequence)).toEqual(range(1, last()));
    } finally {
      await background.stop();
      first.close();
    }
    const seen = first.events.at(-1)?.sequence ?? 0;
    await drafts(25); // while nobody watches
    background = writer();
    const second = watch(seen);
    try {
      await second.reached(seen + 25);
      const atReplayEnd = background.written;
      await waitFor(() => background.written >= atReplayEnd + 20, 10_000, 'live events');
      await background.stop();
      await second.reached(last());
      expect(second.error).toBeUndefined();
      expect(second.events.map((e) => e.sequence)).toEqual(range(seen + 1, last()));
    } finally {
      await background.stop();
      second.close();
    }
    const all = [...first.events, ...second.events];
    expect(all).toEqual(await storedEvents(bed.node('BEL')));
    expect(all.every((e) => e.type === NodeEventType.NODE_EVENT_TYPE_CASE_CREATED)).toBe(true);
  });

  it('without the bearer token the stream fails with UNAUTHENTICATED', async () => {
    const stream = watch(0, 'wrong-token-wrong-token-wrong-token-wrong-t');
    try {
      await waitFor(() => stream.error !== undefined, 5000, 'error');
      expect(TracenetError.from(stream.error).code).toBe(ErrorCode.ERROR_CODE_UNAUTHORIZED);
      expect(stream.events).toEqual([]);
    } finally {
      stream.close();
    }
  });
});

describe('ListCases filters and paging', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL', 'KEN']);
    await bed.policy('BEL', 'FRA', { acceptRequests: true });
    await bed.policy('BEL', 'KEN', { acceptRequests: true, acknowledgeWithinMs: HOUR });
    await bed.policy('KEN', 'BEL', { acceptRequests: true });
  });
  afterAll(() => bed?.cleanup());

  const list = (fields: {
    role?: CaseRole;
    state?: CaseState;
    peer?: string;
    overdueOnly?: boolean;
    limit?: number;
    cursor?: string;
  }) =>
    bed
      .cases('BEL')
      .call('listCases', { role: 0, state: 0, peer: '', overdueOnly: false, limit: 0, cursor: '', ...fields });
  const ids = async (fields: Parameters<typeof list>[0]) => (await list(fields)).cases.map((c) => c.caseId);

  it('filters by role, state, peer and overdue, and pages newest first', async () => {
    const bel = bed.node('BEL');
    const fromFra: Case[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { case: c } = await bed
        .cases('FRA')
        .call('createCase', { recipient: 'BEL', request: request(), send: true });
      fromFra.push(await caseOfTrace(bel, (c as Case).traceId));
    }
    const fromKen: Case[] = [];
    for (let i = 0; i < 2; i += 1) {
      const { case: c } = await bed
        .cases('KEN')
        .call('createCase', { recipient: 'BEL', request: request(), send: true });
      fromKen.push(await caseOfTrace(bel, (c as Case).traceId));
    }
    const { case: toKen } = await bed
      .cases('BEL')
      .call('createCase', { recipient: 'KEN', request: request(), send: true });
    await caseOfTrace(bed.node('KEN'), (toKen as Case).traceId);
    await bed.cases('BEL').call('acknowledgeCase', { caseId: fromFra[0]?.caseId ?? '', reference: '' });
    const all = [...fromFra, ...fromKen, toKen as Case]
      .map((c) => c.caseId)
      .sort()
      .reverse();

    expect(await ids({})).toEqual(all);
    expect(await ids({ role: CaseRole.CASE_ROLE_REQUESTER })).toEqual([toKen?.caseId]);
    expect(await ids({ role: CaseRole.CASE_ROLE_REQUESTED })).toEqual(all.filter((id) => id !== toKen?.caseId));
    expect(await ids({ state: S.CASE_STATE_ACKNOWLEDGED })).toEqual([fromFra[0]?.caseId]);
    expect(await ids({ state: S.CASE_STATE_RECEIVED })).toEqual(
      [...fromFra.slice(1), ...fromKen]
        .map((c) => c.caseId)
        .sort()
        .reverse(),
    );
    expect(await ids({ peer: 'KEN' })).toEqual([toKen?.caseId, ...fromKen.map((c) => c.caseId).reverse()]);
    expect(await ids({ peer: 'KEN', role: CaseRole.CASE_ROLE_REQUESTED })).toEqual(
      fromKen.map((c) => c.caseId).reverse(),
    );
    expect(await ids({ overdueOnly: true })).toEqual([]);

    // KEN's deadline (one hour, both directions) passes; FRA's (default seven days) does not.
    await drained(bed.node('KEN'));
    bed.clock.advance(HOUR + 1);
    expect(await ids({ overdueOnly: true })).toEqual([toKen?.caseId, ...fromKen.map((c) => c.caseId).reverse()]);
    expect(await ids({ overdueOnly: true, role: CaseRole.CASE_ROLE_REQUESTED })).toEqual(
      fromKen.map((c) => c.caseId).reverse(),
    );
    expect(await ids({ overdueOnly: true, peer: 'FRA' })).toEqual([]);
    expect((await list({ overdueOnly: true })).cases.every((c) => c.overdue)).toBe(true);

    // Paging: limit 2, cursor from each page; no case twice, none left out; no timelines.
    const paged: string[] = [];
    let cursor = '';
    let pages = 0;
    do {
      const page = await list({ limit: 2, cursor });
      expect(page.cases.length).toBeLessThanOrEqual(2);
      expect(page.cases.every((c) => c.timeline.length === 0)).toBe(true);
      paged.push(...page.cases.map((c) => c.caseId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== '' && pages < 10);
    expect(paged).toEqual(all);
    expect(pages).toBe(3);
    // Filters and paging together.
    const first = await list({ role: CaseRole.CASE_ROLE_REQUESTED, limit: 4 });
    const rest = await list({ role: CaseRole.CASE_ROLE_REQUESTED, limit: 4, cursor: first.nextCursor });
    expect([...first.cases, ...rest.cases].map((c) => c.caseId)).toEqual(all.filter((id) => id !== toKen?.caseId));
    expect(rest.nextCursor).toBe('');

    const tooMany = await failure(list({ limit: 501 }));
    expect(tooMany.code).toBe(ErrorCode.ERROR_CODE_INVALID_FIELD);
  });
});

describe('out-of-order safety: messages of one trace leave in order', () => {
  let bed: Bed;
  const transport = new RecordingTransport();
  let ackReleasedAt = 0;
  let answerQueuedBehindAck = false;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL'], { transports: { BEL: transport } });
    await bed.policy('BEL', 'FRA', { acceptRequests: true, autoAnswer: true });
    await bed.node('BEL').records.put(record(FNX, EXPORTED_TO_KEN));
  });
  afterAll(() => bed?.cleanup());

  it('auto-acknowledge then auto-answer, queued back to back: the answer waits for the acknowledgement receipt', async () => {
    const bel = bed.node('BEL');
    const kindOf = async (messageId: string) => (await bel.store.outbox.queue.get(messageId))?.kind;
    transport.beforeAttempt = async (messageId) => {
      if ((await kindOf(messageId)) !== K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT) return;
      // Hold the acknowledgement until the answer is queued behind it, then a little longer.
      await waitFor(
        async () => {
          for await (const value of bel.store.outbox.queue.values())
            if (value.kind === K.MESSAGE_KIND_TRACE_ANSWER) return true;
          return false;
        },
        5000,
        'answer queued',
      );
      answerQueuedBehindAck = true;
      await new Promise((r) => setTimeout(r, 150));
      ackReleasedAt = performance.now();
    };
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: 'BEL', request: request(), send: true });
    const answered = await until(bed.node('FRA'), (c as Case).caseId, [S.CASE_STATE_ANSWERED]);
    expect(answerQueuedBehindAck).toBe(true);
    expect(answered.answer?.outcome).toBe(TraceOutcome.TRACE_OUTCOME_REFERRED);
    await drained(bel);
    expect(await countEntries(bel.store.outbox.failed)).toBe(0);
    // Exactly two deliveries, the answer's only after the acknowledgement was let go.
    expect(transport.attempts.map((a) => a.outcome)).toEqual(['receipt', 'receipt']);
    expect(transport.attempts[1]?.at).toBeGreaterThanOrEqual(ackReleasedAt);
    const kinds = await Promise.all(
      transport.attempts.map(async (a) => (await bel.store.outbox.sent.get(a.messageId))?.kind),
    );
    expect(kinds).toEqual([K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, K.MESSAGE_KIND_TRACE_ANSWER]);
    expect(answered.timeline.map((t) => t.toState)).toEqual([
      S.CASE_STATE_DRAFT,
      S.CASE_STATE_SENT,
      S.CASE_STATE_ACKNOWLEDGED,
      S.CASE_STATE_ANSWERED,
    ]);
  });
});

/** Records what each journal commit of `node` audits: per write, the entries' types and the states they name. */
function commitsOf(node: TracenetNode): Array<{ audit: string[]; states: string[]; events: NodeEventType[] }> {
  const commits: Array<{ audit: string[]; states: string[]; events: NodeEventType[] }> = [];
  const journal = node.journal;
  const write = journal.write.bind(journal);
  journal.write = (operations, audit, events = []) => {
    commits.push({
      audit: audit.map((e) => e.type),
      states: audit.filter((e) => e.type.startsWith('case.')).map((e) => String(e.fields.state)),
      events: events.map((e) => e.type),
    });
    return write(operations, audit, events);
  };
  return commits;
}

describe('one commit per step: no step of a case waits for a commit of its own that could be part of another', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL']);
    await bed.policy('BEL', 'FRA', { acceptRequests: true, autoAcknowledge: true });
  });
  afterAll(() => bed?.cleanup());

  it('a request created and sent at once is one commit, audited and published in the order of the steps: created as a draft, then sent', async () => {
    const commits = commitsOf(bed.node('FRA'));
    const { case: sent } = await bed
      .cases('FRA')
      .call('createCase', { recipient: 'BEL', request: request(FNX, { caseReference: 'OCLCO-ONE-1' }), send: true });
    expect(sent?.state).toBe(S.CASE_STATE_SENT);
    const creating = commits.filter((c) => c.audit.includes('case.created'));
    expect(creating).toEqual([
      {
        audit: ['case.created', 'message.queued', 'case.changed'],
        states: ['draft', 'sent'],
        events: [NodeEventType.NODE_EVENT_TYPE_CASE_CREATED, NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED],
      },
    ]);
    const stored = await bed.node('FRA').workflow.get(sent?.caseId ?? '');
    expect(stored.timeline.map((t) => t.toState)).toEqual([S.CASE_STATE_DRAFT, S.CASE_STATE_SENT]);
    expect(stored.state).not.toBe(S.CASE_STATE_DRAFT);
    await until(bed.node('FRA'), stored.caseId, [S.CASE_STATE_ACKNOWLEDGED]);
  });

  it('a request from a peer whose policy acknowledges automatically is acknowledged in the batch that accepts it: never stored unacknowledged (12.5)', async () => {
    const commits = commitsOf(bed.node('BEL'));
    const { case: sent } = await bed
      .cases('FRA')
      .call('createCase', { recipient: 'BEL', request: request(FNX, { caseReference: 'OCLCO-ONE-2' }), send: true });
    const mine = await until(bed.node('FRA'), sent?.caseId ?? '', [S.CASE_STATE_ACKNOWLEDGED]);
    const theirs = await caseOfTrace(bed.node('BEL'), mine.traceId);
    expect(commits.filter((c) => c.audit.includes('case.created'))).toEqual([
      {
        audit: ['message.received', 'case.created', 'message.queued', 'case.changed'],
        states: ['received', 'acknowledged'],
        events: [
          NodeEventType.NODE_EVENT_TYPE_MESSAGE_RECEIVED,
          NodeEventType.NODE_EVENT_TYPE_CASE_CREATED,
          NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED,
        ],
      },
    ]);
    // The automatic steps that follow find it acknowledged and do not acknowledge again.
    await bed.node('BEL').workflow.stop();
    await bed.node('BEL').workflow.start();
    const after = await bed.node('BEL').workflow.get(theirs.caseId);
    expect(after.timeline.map((t) => t.toState)).toEqual([S.CASE_STATE_RECEIVED, S.CASE_STATE_ACKNOWLEDGED]);
    expect(after.localReference).toMatch(/^BEL-2026-\d{6}$/);
    expect(mine.peerReference).toBe(after.localReference);
    expect(commits.filter((c) => c.audit.includes('message.queued'))).toHaveLength(1);
  });
});

describe('restart', () => {
  let bed: Bed;
  const again: TestNode[] = [];
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL'], { leveldb: true });
    await bed.policy('BEL', 'FRA', { acceptRequests: true, autoAnswer: true });
  });
  afterAll(async () => {
    // One after the other, the running one first: they share BEL's data directory, and removing it
    // while the running node stops (writing its last entries and audit-head.json) fails ENOTEMPTY.
    for (const t of [...again].reverse()) await t.cleanup();
    await bed?.cleanup();
  });

  it('automatic steps run again at start without repeating the note of a case that waits for an officer', async () => {
    const { case: c } = await bed.cases('FRA').call('createCase', { recipient: 'BEL', request: request(), send: true });
    const theirs = await caseOfTrace(bed.node('BEL'), (c as Case).traceId);
    const note = 'no exact record match; waiting for an officer';
    await waitFor(
      async () => (await bed.node('BEL').workflow.get(theirs.caseId)).timeline.some((t) => t.summary === note),
      10_000,
      'note',
    );
    for (let i = 0; i < 2; i += 1) {
      const previous = again.at(-1)?.node ?? bed.node('BEL');
      await previous.stop();
      const restarted = await startNode('BEL', { clock: bed.clock, dataDir: bed.test('BEL').dataDir });
      again.push(restarted);
      await restarted.node.workflow.stop(); // waits for the automatic steps started by start()
    }
    const after = await (again.at(-1) as TestNode).node.workflow.get(theirs.caseId);
    expect(after.state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect(after.timeline.filter((t) => t.summary === note)).toHaveLength(1);
  });

  it('case numbers continue after the highest one, also past case-999999 (which sorts after case-1000000)', async () => {
    const last = again.at(-1) ?? bed.test('BEL');
    await last.node.stop();
    const store = await openStore(dataPaths(last.dataDir).store);
    try {
      for (const caseId of ['case-999999', 'case-1000000']) {
        const c = Case.fromPartial({
          caseId,
          role: CaseRole.CASE_ROLE_REQUESTER,
          state: S.CASE_STATE_DRAFT,
          peer: 'FRA',
          traceId: randomTraceId(),
        });
        await store.batch(await store.cases.put(c));
      }
    } finally {
      await store.close();
    }
    const restarted = await startNode('BEL', { clock: bed.clock, dataDir: last.dataDir });
    again.push(restarted);
    const draft = await restarted.node.workflow.createCase('FRA', request(), false);
    expect(draft.caseId).toBe('case-1000001');
    expect((await restarted.node.workflow.get('case-1000000')).traceId).not.toBe(draft.traceId);
  });
});
