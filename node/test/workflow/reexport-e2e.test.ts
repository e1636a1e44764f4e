import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Case,
  CaseRole,
  CaseState,
  CasesClient,
  type CasesServer,
  ErrorCode,
  MessageKind,
  NodeEventType,
  PeerPolicy,
  ReexportCondition,
  ReexportDirection,
  type ReexportFlag,
  ReexportNotice,
  RecordsClient,
  ReleaseAction,
  StatisticsClient,
  type StatisticsServer,
  type RecordsServer,
  TraceOutcome,
  TracenetError,
  WeaponEvent,
  WeaponEventType as E,
  WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import type { TracenetNode } from '../../src/node.js';
import { ManualClock } from '../../src/util/clock.js';
import { pinAll, startNode, waitFor, type TestNode } from '../support/nodes.js';
import { countEntries, newMessageId, RawFederationClient, rejectionOf, sealFrom } from '../support/parties.js';
import { traceRequest } from '../support/requests.js';
import { CLI_PATH, requireBuiltCli } from '../integration/processes.js';

/**
 * Unauthorised re-export (docs/protocol.md section 18; issue 19 part 2) on four real nodes on
 * loopback (LevelDB stores, gRPC with TLS, real keys) sharing a ManualClock: FRA seized a pistol and
 * traces it BEL → KEN → UGA. BEL exported it to KEN under an undertaking prohibiting re-export;
 * KEN exported it to UGA without authorisation.
 */

const S = CaseState;
const IDS = ['FRA', 'BEL', 'KEN', 'UGA'] as const;
const BED_START = Math.max(Date.UTC(2026, 0, 5, 9), Date.now());

const ev = (fields: Partial<WeaponEvent>): WeaponEvent => WeaponEvent.fromPartial(fields);

const BEL_EXPORT = ev({
  type: E.WEAPON_EVENT_TYPE_EXPORTED,
  date: '2016-05-10',
  destination: 'KEN',
  licence: 'BEL-EXP-2016-114',
  endUser: 'Kenya Police Service',
  undertaking: {
    condition: ReexportCondition.REEXPORT_CONDITION_PROHIBITED,
    certificateReference: 'EUC-KEN-2016-77',
    endUser: 'Kenya Police Service',
    date: '2016-04-20',
    authorisations: [{ destination: 'TZA', date: '2018-01-10', reference: 'BEL-RX-2018-2' }],
  },
});
const KEN_EXPORT = ev({
  type: E.WEAPON_EVENT_TYPE_EXPORTED,
  date: '2019-02-11',
  destination: 'UGA',
  licence: 'KEN-EXP-19-3',
});

describe('a three-hop chain with an undertaking breached is flagged and the original exporter notified under consent', () => {
  const clock = new ManualClock(BED_START);
  const tests = new Map<string, TestNode>();
  const clients = new Map<string, UnaryClient<CasesServer>>();
  const node = (id: string) => (tests.get(id) as TestNode).node;
  const cases = (id: string) => clients.get(id) as UnaryClient<CasesServer>;
  const recordClients = new Map<string, UnaryClient<RecordsServer>>();
  const records = (id: string) => recordClients.get(id) as UnaryClient<RecordsServer>;

  beforeAll(async () => {
    for (const id of IDS) tests.set(id, await startNode(id, { clock }));
    await pinAll(
      [...tests.values()].map((t) => t.node),
      clock.now(),
    );
    for (const id of IDS.slice(1))
      await node(id).policies.set(
        PeerPolicy.fromPartial({
          participantId: 'FRA',
          acceptRequests: true,
          autoAnswer: true,
          // BEL's law keeps end users back (12.11): the undertaking's end user follows (18.2).
          releaseRules:
            id === 'BEL'
              ? [{ field: 'history.end_user', action: ReleaseAction.RELEASE_ACTION_WITHHOLD, reason: 'personal data' }]
              : [],
        }),
      );
    for (const [id, t] of tests)
      recordClients.set(
        id,
        connectUnary<RecordsServer>(RecordsClient, t.node.authorityAddress, await readAuthorityToken(t.dataDir)),
      );
    for (const [id, t] of tests)
      clients.set(
        id,
        connectUnary<CasesServer>(CasesClient, t.node.authorityAddress, await readAuthorityToken(t.dataDir)),
      );
  }, 60_000);

  afterAll(async () => {
    for (const c of [...clients.values(), ...recordClients.values()]) c.close();
    await Promise.all([...tests.values()].map((t) => t.cleanup()));
  });

  async function until(n: TracenetNode, caseId: string, done: (c: Case) => boolean, what: string): Promise<Case> {
    let c = await n.workflow.get(caseId);
    await waitFor(async () => done((c = await n.workflow.get(caseId))), 15_000, what);
    return c;
  }

  async function requested(n: TracenetNode, traceId: string): Promise<Case> {
    let found: Case | undefined;
    await waitFor(
      async () =>
        (found = (await n.workflow.list({ limit: 500 })).cases.find(
          (c) => c.traceId === traceId && c.role === CaseRole.CASE_ROLE_REQUESTED,
        )) !== undefined,
      15_000,
      `case of ${traceId} on ${n.identity.participantId}`,
    );
    return found as Case;
  }

  /** Resolves once FRA holds the automatic answer to its case `mine`. */
  async function answeredAutomatically(mine: Case): Promise<Case> {
    return until(node('FRA'), mine.caseId, (c) => c.state === S.CASE_STATE_ANSWERED, `${mine.peer} answered`);
  }

  /** Records the seized pistol (support/requests.ts) with `events` on `id` (Records.PutRecord). */
  async function putRecord(id: string, events: WeaponEvent[]): Promise<void> {
    await records(id).call('putRecord', {
      record: WeaponRecord.fromPartial({
        manufacture: {
          manufacturer: 'FN Herstal',
          countryOfManufacture: 'BEL',
          serialNumber: 'FX-0412-2231',
          model: 'FNX-45',
          type: WeaponType.WEAPON_TYPE_PISTOL,
          calibre: '.45 ACP',
          year: 2011,
        },
        events,
      }),
    });
  }

  async function outboxEmpty(id: string): Promise<void> {
    await waitFor(async () => (await countEntries(node(id).store.outbox.queue)) === 0, 15_000, `${id} outbox drained`);
  }

  let kenCase: Case;
  let belCaseId = '';
  let flag: ReexportFlag;

  it('flags the chain with the evidence once KEN answers, and once only', async () => {
    const FRA = 'FRA';
    // Each state answers automatically from its own records (12.8): BEL's export carries the undertaking.
    await putRecord('BEL', [
      ev({ type: E.WEAPON_EVENT_TYPE_MANUFACTURED, date: '2011-03-01', place: 'Herstal' }),
      BEL_EXPORT,
    ]);
    await putRecord('KEN', [
      ev({ type: E.WEAPON_EVENT_TYPE_IMPORTED, date: '2016-05-20', origin: 'BEL', licence: 'KEN-IMP-16-9' }),
      KEN_EXPORT,
    ]);
    await putRecord('UGA', [
      ev({ type: E.WEAPON_EVENT_TYPE_IMPORTED, date: '2019-02-20', origin: 'KEN' }),
      ev({ type: E.WEAPON_EVENT_TYPE_STOLEN, date: '2021-07-01', place: 'Kampala' }),
    ]);
    const { case: sent } = await cases(FRA).call('createCase', {
      recipient: 'BEL',
      request: traceRequest(),
      send: true,
    });
    const belCase = await answeredAutomatically(sent as Case);
    belCaseId = belCase.caseId;
    // BEL's answer alone shows the undertaking but not yet what KEN did: no flag.
    expect(belCase.answer?.automatic).toBe(true);
    expect(belCase.answer?.history[1]?.undertaking?.certificateReference).toBe('EUC-KEN-2016-77');
    expect(belCase.answer?.history[1]?.undertaking?.endUser).toBe('');
    expect(belCase.answer?.withheld.map((w) => w.field)).toEqual([
      'history[1].end_user',
      'history[1].undertaking.end_user',
      'referral.event.end_user',
      'referral.event.undertaking.end_user',
    ]);
    expect(belCase.reexportFlags).toEqual([]);

    const { case: toKen } = await cases(FRA).call('followOn', {
      caseId: belCase.caseId,
      send: true,
      intendedUse: '',
      otherInformation: '',
    });
    kenCase = await answeredAutomatically(toKen as Case);
    expect(kenCase.reexportFlags).toHaveLength(1);
    flag = kenCase.reexportFlags[0] as ReexportFlag;
    expect(flag).toMatchObject({
      exporter: 'BEL',
      undertakingState: 'KEN',
      laterState: 'UGA',
      kind: 'reexported',
      raisedBy: 'FRA',
      notifiedAtMs: 0,
      chainId: belCase.chainId,
    });
    expect(flag.flagId).toMatch(/^rx_[A-Za-z0-9_-]{22}$/);
    expect(flag.evidence.map((h) => [h.source, h.caseId, h.event?.type, h.event?.date, h.event?.licence])).toEqual([
      ['BEL', belCase.caseId, E.WEAPON_EVENT_TYPE_EXPORTED, '2016-05-10', 'BEL-EXP-2016-114'],
      ['KEN', kenCase.caseId, E.WEAPON_EVENT_TYPE_IMPORTED, '2016-05-20', 'KEN-IMP-16-9'],
      ['KEN', kenCase.caseId, E.WEAPON_EVENT_TYPE_EXPORTED, '2019-02-11', 'KEN-EXP-19-3'],
    ]);

    const { case: toUga } = await cases('FRA').call('followOn', {
      caseId: kenCase.caseId,
      send: true,
      intendedUse: '',
      otherInformation: '',
    });
    const ugaCase = await answeredAutomatically(toUga as Case);
    expect(ugaCase.answer?.outcome).toBe(TraceOutcome.TRACE_OUTCOME_TRACED);
    // UGA's answer adds nothing new: the same re-export is not flagged twice.
    expect(ugaCase.reexportFlags).toEqual([]);

    const chain = await cases('FRA').call('getTraceChain', { caseId: ugaCase.caseId });
    expect(chain.cases.flatMap((c) => c.reexportFlags.map((f) => f.flagId))).toEqual([flag.flagId]);
    const listed = await cases('FRA').call('listReexportFlags', {
      direction: ReexportDirection.REEXPORT_DIRECTION_RAISED,
    });
    expect(listed.raised.map((f) => f.flagId)).toEqual([flag.flagId]);
    expect(listed.received).toEqual([]);

    const events: number[] = [];
    for await (const e of node('FRA').store.audit.events.values()) events.push(e.type);
    expect(events.filter((t) => t === NodeEventType.NODE_EVENT_TYPE_REEXPORT_FLAGGED)).toHaveLength(1);
    const audit: string[] = [];
    for await (const v of node('FRA').store.audit.entries.values()) audit.push(String(JSON.parse(v.line).type));
    expect(audit.filter((t) => t === 'reexport.flagged')).toHaveLength(1);
  }, 90_000);

  it('refuses to notify BEL with KEN’s information until KEN consents, writing nothing', async () => {
    const fra = node('FRA');
    const auditBefore = await fra.store.audit.entries.count();
    const outboxBefore = await fra.store.outbox.sent.count();
    const error = TracenetError.from(
      await rejectionOf(cases('FRA').call('notifyReexport', { caseId: kenCase.caseId, flagId: flag.flagId })),
    );
    expect([error.code, error.field, error.rule]).toEqual([
      ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED,
      'flag.evidence[1]',
      'use_restrictions',
    ]);
    expect(error.message).toContain('KEN');
    const refusals: Array<[string, () => Promise<unknown>, ErrorCode, string, string]> = [
      [
        'no flag id',
        () => cases('FRA').call('notifyReexport', { caseId: kenCase.caseId, flagId: '' }),
        ErrorCode.ERROR_CODE_MISSING_FIELD,
        'flag_id',
        'required',
      ],
      [
        'a flag id with a space',
        () => cases('FRA').call('notifyReexport', { caseId: kenCase.caseId, flagId: 'rx_ not a flag id 0000' }),
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'flag_id',
        'flag_id',
      ],
      [
        'a flag of another case',
        () => cases('FRA').call('notifyReexport', { caseId: belCaseId, flagId: flag.flagId }),
        ErrorCode.ERROR_CODE_NOT_FOUND,
        'flag_id',
        'exists',
      ],
      [
        'an unknown case',
        () => cases('FRA').call('notifyReexport', { caseId: 'case-999999', flagId: flag.flagId }),
        ErrorCode.ERROR_CODE_NOT_FOUND,
        'case_id',
        'exists',
      ],
      [
        'an unknown direction',
        () => cases('FRA').call('listReexportFlags', { direction: 7 as ReexportDirection }),
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'direction',
        'enum',
      ],
    ];
    for (const [what, call, code, field, rule] of refusals) {
      const refused = TracenetError.from(await rejectionOf(call()));
      expect([refused.code, refused.field, refused.rule], what).toEqual([code, field, rule]);
    }
    expect(await fra.store.audit.entries.count()).toBe(auditBefore);
    expect(await countEntries(fra.store.outbox.queue)).toBe(0);
    expect(await fra.store.outbox.sent.count()).toBe(outboxBefore);
    expect((await fra.workflow.get(kenCase.caseId)).reexportFlags[0]?.notifiedAtMs).toBe(0);
  });

  it('notifies BEL once KEN granted consent; BEL lists it as received, KEN gets the disclosure notice', async () => {
    await cases('FRA').call('requestConsent', {
      caseId: kenCase.caseId,
      thirdParticipant: 'BEL',
      reason: 'to notify BEL of a possible breach of its end-user undertaking',
    });
    const kenSide = await requested(node('KEN'), kenCase.traceId);
    await until(node('KEN'), kenSide.caseId, (c) => c.consents.length === 1, 'consent request at KEN');
    await cases('KEN').call('decideConsent', { caseId: kenSide.caseId, consentId: '', granted: true, conditions: '' });
    await until(node('FRA'), kenCase.caseId, (c) => c.consents[0]?.granted === true, 'consent granted at FRA');

    const { case: after } = await cases('FRA').call('notifyReexport', { caseId: kenCase.caseId, flagId: flag.flagId });
    const notified = after?.reexportFlags.find((f) => f.flagId === flag.flagId);
    expect(notified?.notifiedAtMs).toBe(clock.now());
    const consentId = after?.consents[0]?.consentId;
    expect(after?.disclosures).toEqual([
      expect.objectContaining({ thirdParticipant: 'BEL', basis: `consent:${consentId}` }),
    ]);
    await outboxEmpty('FRA');

    let received: ReexportFlag[] = [];
    await waitFor(
      async () =>
        (received = (
          await cases('BEL').call('listReexportFlags', { direction: ReexportDirection.REEXPORT_DIRECTION_RECEIVED })
        ).received).length === 1,
      15_000,
      'BEL received the notice',
    );
    expect(received[0]).toMatchObject({ flagId: flag.flagId, exporter: 'BEL', raisedBy: 'FRA', laterState: 'UGA' });
    expect(received[0]?.evidence.map((h) => h.event?.licence)).toEqual([
      'BEL-EXP-2016-114',
      'KEN-IMP-16-9',
      'KEN-EXP-19-3',
    ]);
    // Statistics.GetReexportReport (18.6): FRA raised one flag on KEN's undertaking, BEL received it.
    const report = async (id: string) => {
      const t = tests.get(id) as TestNode;
      const stats = connectUnary<StatisticsServer>(
        StatisticsClient,
        t.node.authorityAddress,
        await readAuthorityToken(t.dataDir),
      );
      try {
        return (await stats.call('getReexportReport', { period: undefined })).byState;
      } finally {
        stats.close();
      }
    };
    expect(await report('FRA')).toEqual([{ state: 'KEN', raised: 1, received: 0, flagIds: [flag.flagId] }]);
    expect(await report('BEL')).toEqual([{ state: 'KEN', raised: 0, received: 1, flagIds: [flag.flagId] }]);
    const belEvents: number[] = [];
    for await (const e of node('BEL').store.audit.events.values()) belEvents.push(e.type);
    expect(belEvents).toContain(NodeEventType.NODE_EVENT_TYPE_REEXPORT_NOTIFIED);

    const auditOf = async (id: string) => {
      const lines: Array<Record<string, unknown>> = [];
      for await (const v of node(id).store.audit.entries.values())
        lines.push(JSON.parse(v.line) as Record<string, unknown>);
      return lines;
    };
    expect((await auditOf('FRA')).filter((l) => l.type === 'reexport.notified')).toEqual([
      expect.objectContaining({ caseId: kenCase.caseId, flagId: flag.flagId, exporter: 'BEL', providers: 'KEN' }),
    ]);
    expect((await auditOf('FRA')).filter((l) => l.type === 'case.disclosed')).toEqual([
      expect.objectContaining({ caseId: kenCase.caseId, provider: 'KEN', third: 'BEL', basis: `consent:${consentId}` }),
    ]);
    expect((await auditOf('BEL')).filter((l) => l.type === 'reexport.received')).toEqual([
      expect.objectContaining({ peer: 'FRA', flagId: flag.flagId, kind: 'reexported', laterState: 'UGA' }),
    ]);
    const kenAfter = await until(
      node('KEN'),
      kenSide.caseId,
      (c) => c.disclosures.length === 1,
      'disclosure notice at KEN',
    );
    expect(kenAfter.disclosures[0]).toMatchObject({ thirdParticipant: 'BEL', basis: `consent:${consentId}` });

    const again = TracenetError.from(
      await rejectionOf(cases('FRA').call('notifyReexport', { caseId: kenCase.caseId, flagId: flag.flagId })),
    );
    expect([again.code, again.field, again.rule]).toEqual([
      ErrorCode.ERROR_CODE_ALREADY_EXISTS,
      'flag_id',
      'notified_once',
    ]);
  }, 60_000);

  it('shows the flags in `tracenet trace flags`, `trace show` and `trace chain`, in words', async () => {
    requireBuiltCli();
    const run = async (id: string, args: string[]) =>
      (await promisify(execFile)(process.execPath, [CLI_PATH, ...args, '--data', (tests.get(id) as TestNode).dataDir]))
        .stdout;
    const raised = await run('FRA', ['trace', 'flags', '--raised']);
    if (process.env.TRACENET_SHOW_CLI) console.log(raised);
    expect(raised).toContain('raised in our trace chains: 1');
    expect(raised).toContain(`possible unauthorised re-export ${flag.flagId}`);
    expect(raised).toContain('BEL exported to KEN under end-user certificate EUC-KEN-2016-77 of 2016-04-20');
    expect(raised).toContain('(re-export prohibited; authorised: TZA 2018-01-10)');
    expect(raised).toContain('KEN re-exported it to UGA');
    expect(raised).toMatch(/KEN {2}case-\d{6} {2}2019-02-11 {2}exported {2}to UGA {2}licence KEN-EXP-19-3/);
    expect(raised).not.toContain('received from peers');
    const received = await run('BEL', ['trace', 'flags', '--received']);
    if (process.env.TRACENET_SHOW_CLI) console.log(received);
    expect(received).toContain('received from peers (we are the exporter): 1');
    expect(received).toContain('from FRA');
    const shown = await run('FRA', ['trace', 'show', kenCase.caseId]);
    if (process.env.TRACENET_SHOW_CLI) console.log(shown);
    expect(shown).toContain(`possible unauthorised re-export ${flag.flagId}`);
    expect(shown).toContain('BEL notified');
    const chain = await run('FRA', ['trace', 'chain', kenCase.caseId]);
    if (process.env.TRACENET_SHOW_CLI) console.log(chain);
    expect(chain).toContain(`possible unauthorised re-export ${flag.flagId}`);
    const json = JSON.parse(await run('BEL', ['trace', 'flags', '--json'])) as { received: unknown[] };
    expect(json.received).toHaveLength(1);
  }, 60_000);

  it('refuses a record whose undertaking breaks a rule, naming each, and stores nothing', async () => {
    const before = await node('BEL').store.records.records.count();
    const tomorrowPlus = new Date(clock.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const error = TracenetError.from(
      await rejectionOf(
        putRecord('BEL', [
          ev({ type: E.WEAPON_EVENT_TYPE_MANUFACTURED, date: '2011-03-01' }),
          ev({
            type: E.WEAPON_EVENT_TYPE_IMPORTED,
            date: '2012-01-01',
            origin: 'DEU',
            undertaking: BEL_EXPORT.undertaking,
          }),
          ev({
            type: E.WEAPON_EVENT_TYPE_EXPORTED,
            date: '2016-05-10',
            destination: 'KEN',
            undertaking: {
              condition: ReexportCondition.REEXPORT_CONDITION_WITH_CONSENT,
              certificateReference: '',
              endUser: '',
              date: tomorrowPlus,
              authorisations: [{ destination: 'Kenya', date: '', reference: '' }],
            },
          }),
        ]),
      ),
    );
    expect(error.code).toBe(ErrorCode.ERROR_CODE_INVALID_FIELD);
    expect(error.violations.map((v) => `${v.field} ${v.rule}`)).toEqual([
      'record.events[1].undertaking not_applicable',
      'record.events[2].undertaking.certificate_reference required',
      'record.events[2].undertaking.date not_in_future',
      'record.events[2].undertaking.authorisations[0].destination participant_id',
    ]);
    expect(await node('BEL').store.records.records.count()).toBe(before);
  });

  describe('hostile notices to BEL are refused with the field and rule, and nothing is stored', () => {
    const valid = (changes: (n: ReexportNotice) => void = () => {}): Uint8Array => {
      const n = ReexportNotice.fromPartial({
        flagId: 'rx_hostile000000000000000',
        exporterTraceId: '',
        flag: { ...flag, flagId: 'rx_hostile000000000000000', raisedBy: 'UGA', notifiedAtMs: 0 },
      });
      changes(n);
      return ReexportNotice.encode(n).finish();
    };
    const cases_: Array<[string, Uint8Array, ErrorCode, string, string]> = [];
    beforeAll(() => {
      const f = (mutate: (n: ReexportNotice) => void) => valid(mutate);
      const setFlag = (fields: Partial<ReexportFlag>) => (n: ReexportNotice) =>
        Object.assign(n.flag as ReexportFlag, fields);
      cases_.push(
        ['not protobuf', Uint8Array.from([0xff, 0xff, 0xff]), ErrorCode.ERROR_CODE_MALFORMED, 'body', 'protobuf'],
        [
          'another exporter',
          f(setFlag({ exporter: 'FRA' })),
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'body.flag.exporter',
          'recipient_is_exporter',
        ],
        [
          'a short flag id',
          f((n) => Object.assign(n, { flagId: 'rx_1' })),
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'body.flag_id',
          'flag_id',
        ],
        [
          'no flag',
          f((n) => Object.assign(n, { flag: undefined })),
          ErrorCode.ERROR_CODE_MISSING_FIELD,
          'body.flag',
          'required',
        ],
        [
          'an escape in a place',
          f((n) => {
            const hop = n.flag?.evidence[0];
            if (hop?.event) hop.event.place = 'Herstal\u001b[2J';
          }),
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'body.flag.evidence[0].event.place',
          'control_character',
        ],
        [
          'a bidi override in a licence',
          f((n) => {
            const hop = n.flag?.evidence[2];
            if (hop?.event) hop.event.licence = 'KEN\u202e91-PXE';
          }),
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'body.flag.evidence[2].event.licence',
          'control_character',
        ],
        [
          '51 hops',
          f((n) => Object.assign(n.flag as ReexportFlag, { evidence: Array(51).fill(flag.evidence[0]) })),
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'body.flag.evidence',
          'max_items',
        ],
        [
          'an impossible date',
          f((n) => {
            const hop = n.flag?.evidence[0];
            if (hop?.event) hop.event.date = '2016-02-30';
          }),
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'body.flag.evidence[0].event.date',
          'date',
        ],
        [
          'an undertaking without its certificate',
          f((n) => {
            const u = n.flag?.undertaking;
            if (u) u.certificateReference = '';
          }),
          ErrorCode.ERROR_CODE_MISSING_FIELD,
          'body.flag.undertaking.certificate_reference',
          'required',
        ],
        [
          'an unknown kind',
          f(setFlag({ kind: 'smuggled' })),
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'body.flag.kind',
          'enum',
        ],
        [
          'raised by another',
          f(setFlag({ raisedBy: 'FRA' })),
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'body.flag.raised_by',
          'sender',
        ],
      );
    });

    async function deliver(from: string, body: Uint8Array): Promise<unknown> {
      const sender = node(from);
      const bel = node('BEL');
      const sealed = sealFrom(sender.identity, bel.identity, clock.now(), {
        kind: MessageKind.MESSAGE_KIND_REEXPORT_NOTICE,
        body,
        messageId: newMessageId(),
      });
      const client = new RawFederationClient(
        bel.federationAddress,
        bel.identity.tlsCertificatePem,
        sender.identity.tls,
      );
      try {
        return await client.deliver(sealed.bytes);
      } finally {
        client.close();
      }
    }

    it('refuses each with its field and rule', async () => {
      const before = await node('BEL').store.reexports.flags.count();
      for (const [what, body, code, field, rule] of cases_) {
        const error = TracenetError.from(await rejectionOf(deliver('UGA', body)));
        expect([error.code, error.field, error.rule], what).toEqual([code, field, rule]);
      }
      expect(await node('BEL').store.reexports.flags.count()).toBe(before);
    });

    it('takes a valid notice from any pinned peer once, and refuses the same flag id again', async () => {
      const before = await node('BEL').store.reexports.flags.count();
      await deliver('UGA', valid());
      expect(await node('BEL').store.reexports.flags.count()).toBe(before + 1);
      const error = TracenetError.from(await rejectionOf(deliver('UGA', valid())));
      expect([error.code, error.field, error.rule]).toEqual([
        ErrorCode.ERROR_CODE_ALREADY_EXISTS,
        'body.flag_id',
        'unique_flag',
      ]);
      expect(await node('BEL').store.reexports.flags.count()).toBe(before + 1);
    });
  });
});
