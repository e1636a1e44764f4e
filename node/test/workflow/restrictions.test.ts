import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import {
  type AnswerCaseRequest,
  type Case,
  CaseRole,
  CaseState,
  CasesClient,
  type CasesServer,
  ConsentDecision,
  ErrorCode,
  MessageKind,
  NodeEvent,
  NodeEventType,
  OnwardDisclosure as O,
  PeerPolicy,
  ReceiptStatus,
  TraceOutcome,
  TraceRequest,
  TracenetError,
  type UseRestrictions,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { verifyReceipt } from '../../src/envelope/receipt.js';
import {
  defaultRestrictions,
  disclosureBasis,
  isOrganisation,
  onwardName,
  purgedAnswer,
  receivedRestrictions,
  tighten,
  validateRestrictions,
} from '../../src/messages/restrictions.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import type { TracenetNode } from '../../src/node.js';
import type { NodeConfig } from '../../src/config/config.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { pinAll, startNode, testConfig, waitFor, type TestNode } from '../support/nodes.js';
import { countEntries, newMessageId, RawFederationClient, rejectionOf, sealFrom } from '../support/parties.js';
import { traceRequest } from '../support/requests.js';

/**
 * Use restrictions, consent, disclosure, retention and panels (docs/protocol.md section 14;
 * issue 4 items 6-9) on real in-process nodes with a shared ManualClock, driven through the Cases
 * API over gRPC.
 */

const S = CaseState;
const DAY = 86_400_000;
const PANEL = 'org:UN-POE';
/** An organisation whose name does not start like the UN's: a panel all the same (protocol 14.2). */
const OTHER_PANEL = 'org:OSCE-SMM';

/** A TRACED answer with optional officer restrictions. */
function traced(caseId: string, restrictions?: Partial<UseRestrictions>): AnswerCaseRequest {
  return {
    caseId,
    outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
    lastLegalRecord: 'sold to licensed dealer Armurerie X, 2015-06-02',
    pointOfDiversion: '',
    referral: undefined,
    history: [],
    details: 'from our export register',
    release: [],
    restrictions: restrictions
      ? {
          purpose: '',
          onwardDisclosure: O.ONWARD_DISCLOSURE_UNSPECIFIED,
          listedParticipants: [],
          retentionDays: 0,
          ...restrictions,
        }
      : undefined,
  };
}

interface Bed {
  readonly clock: ManualClock;
  node(id: string): TracenetNode;
  cases(id: string): UnaryClient<CasesServer>;
  policy(of: string, peer: string, fields: Partial<PeerPolicy>): Promise<void>;
  cleanup(): Promise<void>;
}

/** Not before the real time: TLS certificates are issued with the real clock. */
const BED_START = Math.max(Date.UTC(2026, 0, 5, 9), Date.now());

/** Nodes sharing `clock`: a ManualClock sets the time of real timers; a ManualScheduler runs their timers on logical time. */
async function startBed(
  ids: readonly string[],
  config?: NodeConfig,
  clock: ManualClock = new ManualClock(BED_START),
): Promise<Bed> {
  const tests = new Map<string, TestNode>();
  const clients = new Map<string, UnaryClient<CasesServer>>();
  const cleanup = async () => {
    for (const c of clients.values()) c.close();
    await Promise.all([...tests.values()].map((t) => t.cleanup()));
  };
  try {
    for (const id of ids) tests.set(id, await startNode(id, { clock, memory: true, ...(config ? { config } : {}) }));
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
    cases: (id) => get(clients, id),
    async policy(of, peer, fields) {
      await get(tests, of).node.policies.set(PeerPolicy.fromPartial({ ...fields, participantId: peer }));
    },
    cleanup,
  };
}

async function until(node: TracenetNode, caseId: string, done: (c: Case) => boolean, what: string): Promise<Case> {
  let c = await node.workflow.get(caseId);
  await waitFor(
    async () => done((c = await node.workflow.get(caseId))),
    10_000,
    `${node.identity.participantId} ${caseId}: ${what}`,
  );
  return c;
}

async function caseOfTrace(node: TracenetNode, traceId: string, role = CaseRole.CASE_ROLE_REQUESTED): Promise<Case> {
  let found: Case | undefined;
  await waitFor(
    async () =>
      (found = (await node.workflow.list({ limit: 500 })).cases.find(
        (c) => c.traceId === traceId && c.role === role,
      )) !== undefined,
    10_000,
    `case of ${traceId}`,
  );
  return node.workflow.get((found as Case).caseId);
}

async function drained(node: TracenetNode): Promise<void> {
  await waitFor(
    async () => (await countEntries(node.store.outbox.queue)) === 0,
    10_000,
    `${node.identity.participantId} outbox drained`,
  );
}

async function failure(promise: Promise<unknown>): Promise<TracenetError & { grpc: number | undefined }> {
  const error = TracenetError.from(await rejectionOf(promise));
  return Object.assign(error, { grpc: (error.cause as Partial<ServiceError> | undefined)?.code });
}

async function auditTypes(node: TracenetNode): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  for await (const value of node.store.audit.entries.values())
    lines.push(JSON.parse(String(value.line)) as Record<string, unknown>);
  return lines;
}

async function events(node: TracenetNode): Promise<NodeEvent[]> {
  const list: NodeEvent[] = [];
  for await (const event of node.store.audit.events.values()) list.push(event);
  return list;
}

/** FRA asks BEL; BEL acknowledges; returns both cases. */
async function acknowledged(
  bed: Bed,
  from = 'FRA',
  to = 'BEL',
  changes: Partial<TraceRequest> = {},
): Promise<{ mine: Case; theirs: Case }> {
  const { case: sent } = await bed
    .cases(from)
    .call('createCase', { recipient: to, request: traceRequest(changes), send: true });
  const mine = sent as Case;
  const theirs = await caseOfTrace(bed.node(to), mine.traceId);
  await bed.cases(to).call('acknowledgeCase', { caseId: theirs.caseId, reference: '' });
  await until(bed.node(from), mine.caseId, (c) => c.state === S.CASE_STATE_ACKNOWLEDGED, 'acknowledged');
  return { mine, theirs };
}

/** FRA asks BEL, BEL answers with `restrictions`; returns both cases once FRA has the answer. */
async function answered(bed: Bed, restrictions?: Partial<UseRestrictions>): Promise<{ mine: Case; theirs: Case }> {
  const { mine, theirs } = await acknowledged(bed);
  await bed.cases('BEL').call('answerCase', traced(theirs.caseId, restrictions));
  return {
    mine: await until(bed.node('FRA'), mine.caseId, (c) => c.state === S.CASE_STATE_ANSWERED, 'answered'),
    theirs: await bed.node('BEL').workflow.get(theirs.caseId),
  };
}

/**
 * The rules of restrictions.ts called directly, every boundary once (the tests above drive the
 * same rules through nodes; these pin each comparison and default, see docs/reliability.md 9).
 */
describe('the restriction rules themselves', () => {
  const restrictions = (fields: Partial<UseRestrictions> = {}): UseRestrictions => ({
    purpose: 'investigation 2026/17',
    onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT,
    listedParticipants: [],
    retentionDays: 100,
    ...fields,
  });
  const caught = (run: () => unknown): TracenetError => {
    try {
      run();
    } catch (error) {
      return TracenetError.from(error);
    }
    throw new Error('expected a refusal');
  };
  const policy = (defaults?: Partial<UseRestrictions>) =>
    PeerPolicy.fromPartial({
      participantId: 'FRA',
      ...(defaults
        ? {
            defaultRestrictions: restrictions({
              purpose: '',
              onwardDisclosure: O.ONWARD_DISCLOSURE_UNSPECIFIED,
              retentionDays: 0,
              ...defaults,
            }),
          }
        : {}),
    });

  it('tells organisations from states and names onward disclosures plainly', () => {
    expect(isOrganisation(PANEL)).toBe(true);
    expect(isOrganisation('FRA')).toBe(false);
    expect(onwardName(O.ONWARD_DISCLOSURE_WITH_CONSENT)).toBe('with consent');
    expect(onwardName(O.ONWARD_DISCLOSURE_LISTED)).toBe('listed');
    expect(onwardName(O.ONWARD_DISCLOSURE_NONE)).toBe('none');
    expect(onwardName(99 as O)).toBe('unspecified');
  });

  it('defaults: WITH_CONSENT and 5 years for a state, NONE and 1 year for a panel, the intended use as purpose', () => {
    expect(defaultRestrictions('FRA', policy(), 'seizure')).toEqual({
      purpose: 'seizure',
      onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT,
      listedParticipants: [],
      retentionDays: 5 * 365,
    });
    expect(defaultRestrictions(PANEL, policy(), 'panel work')).toEqual({
      purpose: 'panel work',
      onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
      listedParticipants: [],
      retentionDays: 365,
    });
    // Policy defaults left empty (no onward disclosure, retention 0, a blank purpose) fall back field by field.
    expect(defaultRestrictions(PANEL, policy({ purpose: '  ' }), 'panel work')).toEqual({
      purpose: 'panel work',
      onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
      listedParticipants: [],
      retentionDays: 365,
    });
    expect(defaultRestrictions('FRA', policy({ onwardDisclosure: 9 as O }), 'seizure').onwardDisclosure).toBe(
      O.ONWARD_DISCLOSURE_WITH_CONSENT,
    );
  });

  it("defaults: the policy's fields win, trimmed, with retention capped at 100 years and the list kept only for LISTED", () => {
    const listed = defaultRestrictions(
      'FRA',
      policy({
        purpose: ' export control ',
        onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
        listedParticipants: ['BEL', 'KEN'],
        retentionDays: 30,
      }),
      'seizure',
    );
    expect(listed).toEqual({
      purpose: 'export control',
      onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
      listedParticipants: ['BEL', 'KEN'],
      retentionDays: 30,
    });
    const none = defaultRestrictions(
      PANEL,
      policy({ onwardDisclosure: O.ONWARD_DISCLOSURE_NONE, listedParticipants: ['BEL'], retentionDays: 40_000 }),
      'x',
    );
    expect(none).toEqual({
      purpose: 'x',
      onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
      listedParticipants: [],
      retentionDays: 36_500,
    });
    expect(defaultRestrictions('FRA', policy({ retentionDays: 1 }), 'x').retentionDays).toBe(1);
  });

  it('tightening: no change keeps the base; empty fields keep theirs; stricter and equal values are taken', () => {
    const base = restrictions({ onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED, listedParticipants: ['BEL', 'KEN'] });
    expect(tighten(base, undefined, 'restrictions')).toBe(base);
    const empty = restrictions({ purpose: '  ', onwardDisclosure: O.ONWARD_DISCLOSURE_UNSPECIFIED, retentionDays: 0 });
    expect(tighten(base, empty, 'restrictions')).toEqual(base);
    expect(
      tighten(
        base,
        restrictions({
          purpose: ' narrower ',
          onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
          listedParticipants: ['KEN'],
          retentionDays: 100,
        }),
        'r',
      ),
    ).toEqual({
      purpose: 'narrower',
      onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
      listedParticipants: ['KEN'],
      retentionDays: 100,
    });
    // Away from LISTED, no list is kept, whatever the change names.
    expect(
      tighten(
        base,
        restrictions({ onwardDisclosure: O.ONWARD_DISCLOSURE_NONE, listedParticipants: ['BEL'], retentionDays: 99 }),
        'r',
      ),
    ).toEqual({
      purpose: 'investigation 2026/17',
      onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
      listedParticipants: [],
      retentionDays: 99,
    });
    expect(
      tighten(restrictions(), restrictions({ onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT }), 'r')
        .onwardDisclosure,
    ).toBe(O.ONWARD_DISCLOSURE_WITH_CONSENT);
  });

  it('tightening: every loosening is refused at once, naming each field under the prefix', () => {
    const base = restrictions({ onwardDisclosure: O.ONWARD_DISCLOSURE_NONE, retentionDays: 100 });
    const failure = caught(() =>
      tighten(
        base,
        restrictions({ onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT, retentionDays: 101 }),
        'answer.restrictions',
      ),
    );
    expect(failure).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'answer.restrictions.onward_disclosure',
      rule: 'no_loosening',
    });
    expect(failure.message).toMatch(/^use restrictions may only be tightened/);
    expect(failure.violations.map((v) => [v.field, v.rule])).toEqual([
      ['answer.restrictions.onward_disclosure', 'no_loosening'],
      ['answer.restrictions.retention_days', 'no_loosening'],
    ]);
    expect(failure.violations[0]?.message).toBe("onward disclosure with consent is looser than the policy's none");
    expect(failure.violations[1]?.message).toBe("retention of 101 days is longer than the policy's 100");
    // Listed participants only fewer: a name the base does not list is refused, by name.
    const listed = restrictions({ onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED, listedParticipants: ['BEL'] });
    const outside = caught(() =>
      tighten(
        listed,
        restrictions({ onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED, listedParticipants: ['BEL', 'KEN', 'USA'] }),
        'r',
      ),
    );
    expect(outside.violations).toEqual([
      {
        field: 'r.listed_participants',
        rule: 'no_loosening',
        message: 'KEN, USA not among the participants the policy lists',
      },
    ]);
    // A base of unknown looseness counts as the strictest; an unknown change is not a disclosure at all.
    expect(
      caught(() =>
        tighten(
          restrictions({ onwardDisclosure: O.ONWARD_DISCLOSURE_UNSPECIFIED }),
          restrictions({ onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT }),
          'r',
        ),
      ).rule,
    ).toBe('no_loosening');
    expect(caught(() => tighten(base, restrictions({ onwardDisclosure: 7 as O }), 'r')).violations).toEqual([
      { field: 'r.onward_disclosure', rule: 'enum', message: 'onward disclosure is not known' },
    ]);
  });

  it('received restrictions are checked: known onward disclosure, 1 to 36,500 days, participant ids, purpose up to 2,000 characters', () => {
    expect(() =>
      validateRestrictions(
        restrictions({
          retentionDays: 1,
          purpose: 'p'.repeat(2000),
          onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
          listedParticipants: ['BEL', PANEL],
        }),
        'r',
      ),
    ).not.toThrow();
    expect(() =>
      validateRestrictions(restrictions({ retentionDays: 36_500, onwardDisclosure: O.ONWARD_DISCLOSURE_NONE }), 'r'),
    ).not.toThrow();
    const failure = caught(() =>
      validateRestrictions(
        restrictions({
          onwardDisclosure: O.ONWARD_DISCLOSURE_UNSPECIFIED,
          retentionDays: 0,
          listedParticipants: ['BEL', 'nobody'],
          purpose: 'p'.repeat(2001),
        }),
        'body.restrictions',
      ),
    );
    expect(failure).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'body.restrictions.onward_disclosure',
      rule: 'enum',
    });
    expect(failure.message).toMatch(/^the use restrictions are invalid/);
    expect(failure.violations).toEqual([
      {
        field: 'body.restrictions.onward_disclosure',
        rule: 'enum',
        message: 'onward disclosure must be none, with consent or listed',
      },
      { field: 'body.restrictions.retention_days', rule: 'range', message: 'retention must be 1 to 36500 days' },
      {
        field: 'body.restrictions.listed_participants[1]',
        rule: 'participant_id',
        message: 'nobody is not a participant id',
      },
      { field: 'body.restrictions.purpose', rule: 'max_length', message: 'purpose is longer than 2000 characters' },
    ]);
    expect(
      caught(() => validateRestrictions(restrictions({ retentionDays: 36_501 }), 'r')).violations.map((v) => v.field),
    ).toEqual(['r.retention_days']);
  });

  it('an answer without restrictions is held under the state default; one with them keeps them', () => {
    const answer = purgedAnswer({
      traceId: 't',
      outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
      lastLegalRecord: '',
      pointOfDiversion: '',
      referral: undefined,
      history: [],
      details: '',
      automatic: false,
      restrictions: undefined,
      withheld: [],
    });
    expect(receivedRestrictions(answer, 'seizure')).toEqual({
      purpose: 'seizure',
      onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT,
      listedParticipants: [],
      retentionDays: 5 * 365,
    });
    const own = restrictions({ retentionDays: 3 });
    expect(receivedRestrictions({ ...answer, restrictions: own }, 'seizure')).toBe(own);
  });

  it('onward disclosure: listed participants under LISTED, otherwise only a granted consent for that participant', () => {
    const consent = (thirdParticipant: string, granted: boolean) => ({
      consentId: `c-${thirdParticipant}-${granted}`,
      thirdParticipant,
      reason: '',
      requestedAtMs: 1,
      decidedAtMs: 2,
      granted,
      conditions: '',
    });
    const listed = restrictions({ onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED, listedParticipants: ['KEN'] });
    expect(disclosureBasis(listed, [], 'KEN', 'BEL')).toBe('listed');
    expect(disclosureBasis(listed, [consent('USA', false), consent('USA', true)], 'USA', 'BEL')).toBe(
      'consent:c-USA-true',
    );
    // A list counts only under LISTED.
    const withConsent = restrictions({ listedParticipants: ['KEN'] });
    const refused = caught(() =>
      disclosureBasis(withConsent, [consent('KEN', false), consent('USA', true)], 'KEN', 'BEL'),
    );
    expect(refused).toMatchObject({
      code: ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED,
      field: 'third_participant',
      rule: 'use_restrictions',
    });
    expect(refused.message).toBe(
      "BEL's restrictions (onward disclosure with consent) do not allow disclosure to KEN and no consent of BEL for it is on record",
    );
  });

  it('a purged answer keeps its outcome, restrictions and whether it was automatic, nothing else', () => {
    const full = {
      traceId: 'trace-1',
      outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
      lastLegalRecord: 'sold',
      pointOfDiversion: 'lost',
      referral: { participant: 'KEN', basis: 'export', event: undefined },
      history: [{ type: 1, atMs: 1, participant: 'BEL', description: 'made', reference: '' }] as never[],
      details: 'details',
      automatic: true,
      restrictions: restrictions(),
      withheld: [{ field: 'history[0].end_user', reason: 'private', availableOnRequest: true }],
    };
    expect(purgedAnswer(full)).toEqual({
      traceId: 'trace-1',
      outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
      lastLegalRecord: '',
      pointOfDiversion: '',
      referral: undefined,
      history: [],
      details: '',
      automatic: true,
      restrictions: restrictions(),
      withheld: [],
    });
  });
});

describe('the purge runs with the deadline sweep (protocol 14.5)', () => {
  const SWEEP_EVERY = 60_000;
  const scheduler = new ManualScheduler(BED_START);
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL'], testConfig({ workflow: { deadlineCheckIntervalMs: SWEEP_EVERY } }), scheduler);
    await bed.policy('BEL', 'FRA', {
      acceptRequests: true,
      defaultRestrictions: {
        purpose: '',
        onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
        listedParticipants: [],
        retentionDays: 1,
      },
    });
  });
  afterAll(() => bed?.cleanup());

  it('a node purges received information once its retention has ended, without being asked', async () => {
    const { mine } = await answered(bed);
    expect(mine.purgedAtMs).toBe(0);
    // The retention ends (nothing runs meanwhile); the next sweep of the timer purges.
    scheduler.set(scheduler.now() + DAY + 1);
    await scheduler.advance(SWEEP_EVERY);
    const purged = await until(bed.node('FRA'), mine.caseId, (c) => c.purgedAtMs > 0, 'purged by the deadline sweep');
    expect(purged.answer?.lastLegalRecord).toBe('');
  });
});

describe('use restrictions on answers: policy defaults, tightening only', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed(['FRA', 'BEL']);
    await bed.policy('BEL', 'FRA', { acceptRequests: true });
  });
  afterAll(() => bed?.cleanup());

  it('without policy defaults an answer carries WITH_CONSENT, 5 years and the intended use; the requester holds it for that long', async () => {
    const { mine, theirs } = await answered(bed);
    const expected: UseRestrictions = {
      purpose: 'criminal investigation and prosecution',
      onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT,
      listedParticipants: [],
      retentionDays: 1825,
    };
    expect(theirs.answer?.restrictions).toEqual(expected);
    expect(mine.answer?.restrictions).toEqual(expected);
    expect(mine.retainUntilMs).toBe(mine.updatedAtMs + 1825 * DAY);
    expect(theirs.panel).toBe(false);
  });

  it("the policy's defaults apply per peer and the officer may tighten them", async () => {
    await bed.policy('BEL', 'FRA', {
      acceptRequests: true,
      defaultRestrictions: {
        purpose: 'prosecution only',
        onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
        listedParticipants: [PANEL, 'DEU'],
        retentionDays: 400,
      },
    });
    const plain = await answered(bed);
    expect(plain.mine.answer?.restrictions).toEqual({
      purpose: 'prosecution only',
      onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
      listedParticipants: [PANEL, 'DEU'],
      retentionDays: 400,
    });
    const tight = await answered(bed, { listedParticipants: [PANEL], retentionDays: 30 });
    expect(tight.mine.answer?.restrictions).toEqual({
      purpose: 'prosecution only',
      onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
      listedParticipants: [PANEL],
      retentionDays: 30,
    });
    const none = await answered(bed, { onwardDisclosure: O.ONWARD_DISCLOSURE_NONE });
    expect(none.mine.answer?.restrictions?.onwardDisclosure).toBe(O.ONWARD_DISCLOSURE_NONE);
    expect(none.mine.answer?.restrictions?.listedParticipants).toEqual([]);
  });

  it('a loosening is refused with INVALID_FIELD naming the field, and nothing is sent', async () => {
    await bed.policy('BEL', 'FRA', {
      acceptRequests: true,
      defaultRestrictions: {
        purpose: '',
        onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
        listedParticipants: ['DEU'],
        retentionDays: 100,
      },
    });
    const { theirs } = await acknowledged(bed);
    const cases: Array<[Partial<UseRestrictions>, string]> = [
      [{ retentionDays: 101 }, 'restrictions.retention_days'],
      [{ listedParticipants: [PANEL] }, 'restrictions.listed_participants'],
    ];
    await bed.policy('BEL', 'FRA', {
      acceptRequests: true,
      defaultRestrictions: {
        purpose: '',
        onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT,
        listedParticipants: [],
        retentionDays: 100,
      },
    });
    cases.push([
      { onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED, listedParticipants: [PANEL] },
      'restrictions.onward_disclosure',
    ]);
    for (const [restrictions, field] of cases.slice(2)) {
      const error = await failure(bed.cases('BEL').call('answerCase', traced(theirs.caseId, restrictions)));
      expect([error.code, error.grpc, error.field]).toEqual([
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        GrpcStatus.INVALID_ARGUMENT,
        field,
      ]);
    }
    await bed.policy('BEL', 'FRA', {
      acceptRequests: true,
      defaultRestrictions: {
        purpose: '',
        onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
        listedParticipants: ['DEU'],
        retentionDays: 100,
      },
    });
    for (const [restrictions, field] of cases.slice(0, 2)) {
      const error = await failure(bed.cases('BEL').call('answerCase', traced(theirs.caseId, restrictions)));
      expect([error.code, error.grpc, error.field]).toEqual([
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        GrpcStatus.INVALID_ARGUMENT,
        field,
      ]);
    }
    const after = await bed.node('BEL').workflow.get(theirs.caseId);
    expect(after.state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect(after.answer).toBeUndefined();
    await drained(bed.node('BEL'));
  });
});

describe('panels: an organisation asks; one state accepts, another refuses', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed([PANEL, OTHER_PANEL, 'BEL', 'KEN']);
    await bed.policy('BEL', PANEL, { acceptRequests: true, autoAcknowledge: true });
    await bed.policy('BEL', OTHER_PANEL, { acceptRequests: true, autoAcknowledge: true });
  });
  afterAll(() => bed?.cleanup());

  it('BEL accepts: the request is marked as a panel request in listings on both sides, and the answer gets the strictest defaults', async () => {
    const { case: sent } = await bed.cases(PANEL).call('createCase', {
      recipient: 'BEL',
      request: traceRequest({
        requestingAuthority: 'UN Panel of Experts on the DRC',
        caseReference: 'POE-DRC-2026-12',
      }),
      send: true,
    });
    const theirs = await caseOfTrace(bed.node('BEL'), (sent as Case).traceId);
    const listed = await bed
      .cases('BEL')
      .call('listCases', { role: 0, state: 0, peer: '', overdueOnly: false, limit: 0, cursor: '' });
    expect(listed.cases.find((c) => c.caseId === theirs.caseId)?.panel).toBe(true);
    expect((await bed.cases(PANEL).call('getCase', { caseId: (sent as Case).caseId })).case?.panel).toBe(true);
    await until(bed.node('BEL'), theirs.caseId, (c) => c.state === S.CASE_STATE_ACKNOWLEDGED, 'acknowledged');
    await bed.cases('BEL').call('answerCase', traced(theirs.caseId));
    const mine = await until(
      bed.node(PANEL),
      (sent as Case).caseId,
      (c) => c.state === S.CASE_STATE_ANSWERED,
      'answered',
    );
    expect(mine.answer?.restrictions).toEqual({
      purpose: 'criminal investigation and prosecution',
      onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
      listedParticipants: [],
      retentionDays: 365,
    });
  });

  it("any organisation is a panel: the answer to org:OSCE-SMM carries onward NONE and 365 days on both sides, not a state's defaults (protocol 14.2, 14.6)", async () => {
    const { case: sent } = await bed.cases(OTHER_PANEL).call('createCase', {
      recipient: 'BEL',
      request: traceRequest({ requestingAuthority: 'OSCE Special Monitoring Mission' }),
      send: true,
    });
    const theirs = await caseOfTrace(bed.node('BEL'), (sent as Case).traceId);
    expect(theirs.panel).toBe(true);
    await until(bed.node('BEL'), theirs.caseId, (c) => c.state === S.CASE_STATE_ACKNOWLEDGED, 'acknowledged');
    await bed.cases('BEL').call('answerCase', traced(theirs.caseId));
    const mine = await until(
      bed.node(OTHER_PANEL),
      (sent as Case).caseId,
      (c) => c.state === S.CASE_STATE_ANSWERED,
      'answered',
    );
    const strictest: UseRestrictions = {
      purpose: 'criminal investigation and prosecution',
      onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
      listedParticipants: [],
      retentionDays: 365,
    };
    expect((await bed.node('BEL').workflow.get(theirs.caseId)).answer?.restrictions).toEqual(strictest);
    expect(mine.answer?.restrictions).toEqual(strictest);
    expect(mine.retainUntilMs).toBe(mine.updatedAtMs + 365 * DAY);
  });

  it('KEN does not accept: PERMISSION_DENIED (KIND_NOT_ALLOWED) over the wire, and nothing is stored', async () => {
    const un = bed.node(PANEL);
    const ken = bed.node('KEN');
    const body = TraceRequest.encode({
      ...traceRequest(),
      traceId: 'panel-trace-0000000001',
      chainId: 'panel-trace-0000000001',
    }).finish();
    const sealed = sealFrom(un.identity, ken.identity, bed.clock.now(), {
      kind: MessageKind.MESSAGE_KIND_TRACE_REQUEST,
      body,
      messageId: newMessageId(),
    });
    const client = new RawFederationClient(ken.federationAddress, ken.identity.tlsCertificatePem, un.identity.tls);
    try {
      const raw = await rejectionOf(client.deliver(sealed.bytes));
      expect([TracenetError.from(raw).code, (raw as Partial<ServiceError>).code]).toEqual([
        ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED,
        GrpcStatus.PERMISSION_DENIED,
      ]);
    } finally {
      client.close();
    }
    // Through the node's own outbox the request fails for good with the same code.
    const { case: sent } = await bed
      .cases(PANEL)
      .call('createCase', { recipient: 'KEN', request: traceRequest(), send: true });
    await drained(un);
    const failed: Array<Record<string, unknown>> = [];
    for await (const value of un.store.outbox.failed.values()) failed.push(value);
    expect(failed.map((f) => f.lastError)).toEqual(['KIND_NOT_ALLOWED']);
    expect((await ken.workflow.list()).cases).toEqual([]);
    expect((await un.workflow.get((sent as Case).caseId)).panel).toBe(true);
  });
});

describe('ShareCase: consent, disclosure notices, retention', () => {
  let bed: Bed;
  beforeAll(async () => {
    // KEN: a participant no consent or list names.
    bed = await startBed(['FRA', 'BEL', PANEL, 'KEN']);
    await bed.policy('BEL', 'FRA', { acceptRequests: true });
    // Shared information opens a case at the third participant: it too must accept the sharer.
    await bed.policy(PANEL, 'FRA', { acceptRequests: true });
  });
  afterAll(() => bed?.cleanup());

  const share = (caseId: string) =>
    bed.cases('FRA').call('shareCase', { caseId, thirdParticipant: PANEL, note: 'for the panel report' });
  const sharedWithPanel = async () => (await bed.node(PANEL).workflow.list({ role: CaseRole.CASE_ROLE_SHARED })).cases;

  it('refused without consent: DISCLOSURE_NOT_ALLOWED, nothing sent, the provider not notified', async () => {
    const { mine, theirs } = await answered(bed);
    await drained(bed.node('FRA'));
    const auditBefore = (await auditTypes(bed.node('FRA'))).length;
    const error = await failure(share(mine.caseId));
    expect([error.code, error.grpc, error.rule]).toEqual([
      ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED,
      GrpcStatus.FAILED_PRECONDITION,
      'use_restrictions',
    ]);
    expect(await countEntries(bed.node('FRA').store.outbox.queue)).toBe(0);
    expect((await bed.node('FRA').workflow.get(mine.caseId)).disclosures).toEqual([]);
    expect((await auditTypes(bed.node('FRA'))).length).toBe(auditBefore);
    expect((await bed.node('BEL').workflow.get(theirs.caseId)).disclosures).toEqual([]);
    expect(await sharedWithPanel()).toEqual([]);
  });

  it('consent refused keeps refusing; consent granted allows it, and the provider is notified and audits it', async () => {
    const { mine, theirs } = await answered(bed);
    await bed.cases('FRA').call('requestConsent', {
      caseId: mine.caseId,
      thirdParticipant: PANEL,
      reason: 'the panel investigates embargo breaches',
    });
    const asked = await until(bed.node('BEL'), theirs.caseId, (c) => c.consents.length === 1, 'consent asked');
    expect(asked.consents[0]).toMatchObject({ thirdParticipant: PANEL, decidedAtMs: 0 });
    // Only the provider decides; the requester cannot decide its own request.
    expect(
      (
        await failure(
          bed.cases('FRA').call('decideConsent', { caseId: mine.caseId, consentId: '', granted: true, conditions: '' }),
        )
      ).code,
    ).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);
    await bed.cases('BEL').call('decideConsent', {
      caseId: theirs.caseId,
      consentId: '',
      granted: false,
      conditions: 'ongoing proceedings',
    });
    await until(bed.node('FRA'), mine.caseId, (c) => c.consents[0]?.decidedAtMs !== 0, 'consent refused');
    expect((await failure(share(mine.caseId))).code).toBe(ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED);
    // A decision must answer an open request.
    expect(
      (
        await failure(
          bed
            .cases('BEL')
            .call('decideConsent', { caseId: theirs.caseId, consentId: '', granted: true, conditions: '' }),
        )
      ).code,
    ).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);

    await bed.cases('FRA').call('requestConsent', {
      caseId: mine.caseId,
      thirdParticipant: PANEL,
      reason: 'asked again after the proceedings',
    });
    const second = await until(bed.node('BEL'), theirs.caseId, (c) => c.consents.length === 2, 'second consent asked');
    const consentId = second.consents[1]?.consentId ?? '';
    await bed.cases('BEL').call('decideConsent', {
      caseId: theirs.caseId,
      consentId,
      granted: true,
      conditions: 'for the final report only',
    });
    await until(bed.node('FRA'), mine.caseId, (c) => c.consents[1]?.granted === true, 'consent granted');
    // The consent names the panel: it allows nothing towards another participant (protocol 14.3).
    const elsewhere = await failure(
      bed.cases('FRA').call('shareCase', { caseId: mine.caseId, thirdParticipant: 'KEN', note: 'not the panel' }),
    );
    expect([elsewhere.code, elsewhere.rule]).toEqual([ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED, 'use_restrictions']);
    const { case: after } = await share(mine.caseId);
    expect(after?.disclosures.map((d) => [d.thirdParticipant, d.basis])).toEqual([[PANEL, `consent:${consentId}`]]);

    // The third participant holds the information with the provider's restrictions.
    await waitFor(async () => (await sharedWithPanel()).length === 1, 10_000, 'shared information at the panel');
    const shared = await bed.node(PANEL).workflow.get((await sharedWithPanel())[0]?.caseId ?? '');
    expect(shared.peer).toBe('FRA');
    expect(shared.shared?.provider).toBe('BEL');
    expect(shared.shared?.answer?.lastLegalRecord).toBe('sold to licensed dealer Armurerie X, 2015-06-02');
    expect(shared.shared?.restrictions?.onwardDisclosure).toBe(O.ONWARD_DISCLOSURE_WITH_CONSENT);
    // A shared case takes no workflow step.
    expect(
      (await failure(bed.cases(PANEL).call('acknowledgeCase', { caseId: shared.caseId, reference: '' }))).code,
    ).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);

    // The provider is notified: its case, its audit log and its event stream show the disclosure.
    const bel = bed.node('BEL');
    const notified = await until(bel, theirs.caseId, (c) => c.disclosures.length === 1, 'disclosure notified');
    expect(notified.disclosures[0]).toMatchObject({ thirdParticipant: PANEL, basis: `consent:${consentId}` });
    expect((await auditTypes(bel)).filter((a) => a.type === 'disclosure.notified')).toEqual([
      expect.objectContaining({ caseId: theirs.caseId, third: PANEL, authorised: true }),
    ]);
    expect(
      (await events(bel))
        .filter((e) => e.type === NodeEventType.NODE_EVENT_TYPE_DISCLOSURE_NOTIFIED)
        .map((e) => e.caseId),
    ).toEqual([theirs.caseId]);
    expect((await auditTypes(bed.node('FRA'))).filter((a) => a.type === 'case.disclosed').map((a) => a.third)).toEqual([
      PANEL,
    ]);
  });

  it('a consent decision from anyone but the provider is REJECTED (NOT_FOUND, body.trace_id, known_trace) and decides nothing (protocol 14.4)', async () => {
    const { mine, theirs } = await answered(bed);
    await bed.cases('FRA').call('requestConsent', {
      caseId: mine.caseId,
      thirdParticipant: PANEL,
      reason: 'the panel investigates embargo breaches',
    });
    await until(bed.node('BEL'), theirs.caseId, (c) => c.consents.length === 1, 'consent asked');
    const fra = bed.node('FRA');
    const asked = await fra.workflow.get(mine.caseId);
    const consentId = asked.consents[0]?.consentId ?? '';
    expect(consentId).not.toBe('');
    expect(asked.consents[0]).toMatchObject({ thirdParticipant: PANEL, decidedAtMs: 0 });
    // The third participant itself, and a participant no one named, each grant the consent in BEL's stead.
    for (const forger of [PANEL, 'KEN']) {
      const from = bed.node(forger).identity;
      const body = ConsentDecision.encode({
        traceId: mine.traceId,
        consentId,
        granted: true,
        conditions: `granted by ${forger}`,
      }).finish();
      const messageId = newMessageId();
      const sealed = sealFrom(from, fra.identity, bed.clock.now(), {
        kind: MessageKind.MESSAGE_KIND_CONSENT_DECISION,
        body,
        messageId,
      });
      const client = new RawFederationClient(fra.federationAddress, fra.identity.tlsCertificatePem, from.tls);
      try {
        const error = TracenetError.from(await rejectionOf(client.deliver(sealed.bytes)));
        expect([error.code, error.field, error.rule], forger).toEqual([
          ErrorCode.ERROR_CODE_NOT_FOUND,
          'body.trace_id',
          'known_trace',
        ]);
        expect(error.receipt, `a signed REJECTED receipt for ${forger}`).toBeDefined();
        const receipt = verifyReceipt(error.receipt as NonNullable<TracenetError['receipt']>, {
          issuer: 'FRA',
          issuerKeyId: fra.identity.keyId,
          issuerSigningPublicKey: fra.identity.keys.signingPublicKey,
          sender: forger,
          messageId,
        });
        expect([receipt.status, receipt.errorCode]).toEqual([
          ReceiptStatus.RECEIPT_STATUS_REJECTED,
          ErrorCode.ERROR_CODE_NOT_FOUND,
        ]);
      } finally {
        client.close();
      }
    }
    // The consent stays undecided, and sharing with the panel is still refused.
    const after = await fra.workflow.get(mine.caseId);
    expect(after.consents).toEqual(asked.consents);
    expect(after.consents[0]).toMatchObject({ decidedAtMs: 0, granted: false, conditions: '' });
    expect(after.timeline).toEqual(asked.timeline);
    expect((await failure(share(mine.caseId))).code).toBe(ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED);
  });

  it('LISTED restrictions allow sharing with a listed participant without consent, and with no one else', async () => {
    await bed.policy('BEL', 'FRA', {
      acceptRequests: true,
      defaultRestrictions: {
        purpose: '',
        onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
        listedParticipants: [PANEL],
        retentionDays: 0,
      },
    });
    const { mine, theirs } = await answered(bed);
    const unlisted = await failure(
      bed.cases('FRA').call('shareCase', { caseId: mine.caseId, thirdParticipant: 'KEN', note: 'not on the list' }),
    );
    expect([unlisted.code, unlisted.rule]).toEqual([ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED, 'use_restrictions']);
    const { case: after } = await share(mine.caseId);
    expect(after?.disclosures.map((d) => d.basis)).toEqual(['listed']);
    await until(bed.node('BEL'), theirs.caseId, (c) => c.disclosures.length === 1, 'disclosure notified');
  });

  it('a third participant whose policy refuses requests from the sharer refuses the shared information: KIND_NOT_ALLOWED with a receipt, no case', async () => {
    await bed.policy('BEL', 'FRA', {
      acceptRequests: true,
      defaultRestrictions: {
        purpose: '',
        onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
        listedParticipants: [PANEL],
        retentionDays: 0,
      },
    });
    await bed.policy(PANEL, 'FRA', { acceptRequests: false });
    try {
      const { mine } = await answered(bed);
      const before = (await sharedWithPanel()).length;
      await share(mine.caseId);
      const fra = bed.node('FRA');
      let failed: Record<string, unknown> | undefined;
      await waitFor(
        async () =>
          (failed = (await fra.store.outbox.failed.all()).find(
            (m) => m.kind === MessageKind.MESSAGE_KIND_SHARED_INFORMATION,
          )) !== undefined,
        10_000,
        'shared information refused',
      );
      expect(failed).toMatchObject({ recipient: PANEL, lastError: 'KIND_NOT_ALLOWED' });
      expect(failed?.receipt).toBeTruthy();
      expect((await sharedWithPanel()).length).toBe(before);
      expect(
        (await auditTypes(bed.node(PANEL))).filter(
          (a) => a.type === 'message.rejected' && a.kind === MessageKind.MESSAGE_KIND_SHARED_INFORMATION,
        ),
      ).toEqual([
        expect.objectContaining({ peer: 'FRA', code: 'KIND_NOT_ALLOWED', rule: 'peer_policy', authenticated: true }),
      ]);
    } finally {
      await bed.policy(PANEL, 'FRA', { acceptRequests: true });
    }
  });

  it('retention: received information is purged when its retention ends (ManualClock), logged, and can no longer be shared', async () => {
    await bed.policy('BEL', 'FRA', {
      acceptRequests: true,
      defaultRestrictions: {
        purpose: '',
        onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
        listedParticipants: [PANEL],
        retentionDays: 10,
      },
    });
    const { mine } = await answered(bed);
    await share(mine.caseId);
    await waitFor(async () => (await sharedWithPanel()).some((c) => c.traceId === mine.traceId), 10_000, 'shared');
    await drained(bed.node('FRA'));
    const fra = bed.node('FRA');
    const panel = bed.node(PANEL);
    bed.clock.advance(9 * DAY);
    expect(await fra.workflow.purgeExpired()).toBe(0);
    bed.clock.advance(DAY + 1);
    expect(await fra.workflow.purgeExpired()).toBeGreaterThanOrEqual(1);
    const purged = await fra.workflow.get(mine.caseId);
    expect(purged.purgedAtMs).toBe(bed.clock.now());
    expect(purged.answer).toMatchObject({
      outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
      lastLegalRecord: '',
      details: '',
      history: [],
    });
    expect(purged.answer?.restrictions?.retentionDays).toBe(10);
    expect(purged.timeline.at(-1)?.summary).toMatch(/^purged: retention of BEL's information ended/);
    expect((await auditTypes(fra)).filter((a) => a.type === 'case.purged').map((a) => a.caseId)).toContain(mine.caseId);
    // The inbox copy of the answer keeps its evidence (digest, header, signature) but not its body.
    const answerId = purged.timeline.find((t) => t.toState === S.CASE_STATE_ANSWERED)?.messageId;
    let inboxCopy: Record<string, unknown> | undefined;
    for await (const value of fra.store.messages.inbox.values()) if (value.messageId === answerId) inboxCopy = value;
    expect(inboxCopy).toMatchObject({ body: '', purgedAtMs: bed.clock.now() });
    expect(inboxCopy?.digest).toBeTruthy();
    expect((await failure(share(mine.caseId))).rule).toBe('purged');
    // Sweeping again purges nothing more.
    expect(await fra.workflow.purgeExpired()).toBe(0);
    // The panel held it no longer than FRA might.
    expect(await panel.workflow.purgeExpired()).toBeGreaterThanOrEqual(1);
    const atPanel = (await sharedWithPanel()).find((c) => c.traceId === mine.traceId) as Case;
    expect((await panel.workflow.get(atPanel.caseId)).shared?.answer?.lastLegalRecord).toBe('');
  });
});
