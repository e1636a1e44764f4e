import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AnswerCaseRequest,
  AuthorityClient,
  type AuthorityServer,
  type Case,
  CasesClient,
  type CasesServer,
  CaseState as S,
  ErrorCode,
  MessageKind,
  PeerPolicy,
  ReleaseAction as A,
  TraceAnswer,
  TraceOutcome,
  TracenetError,
  WeaponEventType as E,
  WeaponStatus,
  type WeaponRecord,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { caseText } from '../../src/cli/trace-commands.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import type { TracenetNode } from '../../src/node.js';
import { ManualClock } from '../../src/util/clock.js';
import { event, weapon } from '../records/support.js';
import { pinAll, startNode, type TestNode, waitFor } from '../support/nodes.js';
import { makeParty, newMessageId, type Party, RawFederationClient, sealFrom } from '../support/parties.js';
import { traceRequest } from '../support/requests.js';

/**
 * Release rules between two real nodes (docs/protocol.md 12.12): FRA asks BEL about weapons BEL
 * holds; BEL's rules decide what its answers release, automatic or manual.
 */

const PRIVATE_BUYER = 'Jean Martin, rue des Fossés 3, Namur';
const REASON = 'Loi du 30 juillet 2018, art. 9';

/** A pistol BEL sold through a dealer to a private person: the last legal event is a private transfer. */
function pistol(serialNumber: string): WeaponRecord {
  return weapon(
    {
      imports: [],
      status: WeaponStatus.WEAPON_STATUS_REGISTERED,
      events: [
        event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2011-05-17', { place: 'Herstal', agency: 'FN Herstal' }),
        event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2016-04-08', {
          place: 'Namur',
          endUser: PRIVATE_BUYER,
          licence: 'BE-MOD4-2016-88',
        }),
      ],
    },
    {
      manufacturer: 'FN Herstal',
      serialNumber,
      model: 'FNX-45',
      type: traceRequest().weapon?.markings?.type ?? 0,
      calibre: '.45 ACP',
      year: 2011,
    },
  );
}

describe('release policy between two nodes', () => {
  const clock = new ManualClock(Math.max(Date.UTC(2026, 0, 5, 9), Date.now()));
  let fra: TestNode;
  let bel: TestNode;
  let fraCases: UnaryClient<CasesServer>;
  let belCases: UnaryClient<CasesServer>;
  let belAuthority: UnaryClient<AuthorityServer>;
  let hostile: Party;

  beforeAll(async () => {
    fra = await startNode('FRA', { clock, memory: true });
    bel = await startNode('BEL', { clock, memory: true });
    await pinAll([fra.node, bel.node], clock.now());
    fraCases = connectUnary<CasesServer>(CasesClient, fra.node.authorityAddress, await readAuthorityToken(fra.dataDir));
    belCases = connectUnary<CasesServer>(CasesClient, bel.node.authorityAddress, await readAuthorityToken(bel.dataDir));
    belAuthority = connectUnary<AuthorityServer>(
      AuthorityClient,
      bel.node.authorityAddress,
      await readAuthorityToken(bel.dataDir),
    );
    hostile = await makeParty('KEN', clock.now());
    await fra.node.peers.pin(hostile.card, clock.now());
    for (const serial of ['FX-AUTO-0001', 'FX-APPR-0002', 'FX-MANU-0003']) await bel.node.records.put(pistol(serial));
  });
  afterAll(async () => {
    fraCases?.close();
    belCases?.close();
    belAuthority?.close();
    await hostile?.cleanup();
    await fra?.cleanup();
    await bel?.cleanup();
  });

  /** FRA traces the pistol with `serialNumber` at BEL; returns both cases. */
  async function trace(serialNumber: string): Promise<{ mine: Case; theirs: Case }> {
    const { case: sent } = await fraCases.call('createCase', {
      recipient: 'BEL',
      request: traceRequest({}, { serialNumber }),
      send: true,
    });
    const mine = sent as Case;
    let theirs: Case | undefined;
    await waitFor(async () => {
      theirs = (await bel.node.workflow.list({ limit: 500 })).cases.find((c) => c.traceId === mine.traceId);
      return theirs !== undefined;
    });
    return { mine, theirs: theirs as Case };
  }

  async function until(node: TracenetNode, caseId: string, state: S): Promise<Case> {
    await waitFor(async () => (await node.workflow.get(caseId)).state === state, 10_000, `${caseId} in ${S[state]}`);
    return node.workflow.get(caseId);
  }

  it('a node-wide rule withholds the private end user of an automatic answer; the requester sees it listed', async () => {
    // The node-wide policy "*", through the Authority API: private transfers' end users, on request.
    await belAuthority.call('setPeerPolicy', {
      policy: PeerPolicy.fromPartial({
        participantId: '*',
        releaseRules: [
          {
            field: 'history.end_user',
            eventTypes: [E.WEAPON_EVENT_TYPE_TRANSFERRED],
            action: A.RELEASE_ACTION_ON_REQUEST,
            reason: REASON,
          },
        ],
      }),
    });
    await belAuthority.call('setPeerPolicy', {
      policy: PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: true, autoAnswer: true }),
    });

    const { mine } = await trace('FX-AUTO-0001');
    const answered = await until(fra.node, mine.caseId, S.CASE_STATE_ANSWERED);
    const answer = answered.answer as TraceAnswer;
    expect(answer.automatic).toBe(true);
    expect(answer.outcome).toBe(TraceOutcome.TRACE_OUTCOME_TRACED);
    expect(answer.withheld).toEqual([{ field: 'history[1].end_user', reason: REASON, availableOnRequest: true }]);
    expect(answer.history[1]?.endUser).toBe('');
    expect(answer.history[1]?.licence).toBe('BE-MOD4-2016-88');
    // The derived text is built from the released event: the name is nowhere in the answer.
    expect(answer.lastLegalRecord).toBe('transferred 2016-04-08 at Namur under licence BE-MOD4-2016-88');
    expect(JSON.stringify(TraceAnswer.toJSON(answer))).not.toContain('Jean Martin');
    // `tracenet trace show` on the requester's side says what was withheld, and why.
    expect(caseText(answered)).toContain(`withheld: history[1].end_user (available on request): ${REASON}`);
    // The policy change is in BEL's audit log, rules included.
    const lines: string[] = [];
    for await (const [, value] of bel.node.store.audit.entries.entries()) lines.push(String(value.line));
    const set = lines.map((l) => JSON.parse(l)).find((e) => e.type === 'policy.set' && e.peer === '*');
    expect(JSON.parse(set.releaseRules)).toEqual([
      {
        field: 'history.end_user',
        eventTypes: ['WEAPON_EVENT_TYPE_TRANSFERRED'],
        action: 'RELEASE_ACTION_ON_REQUEST',
        reason: REASON,
      },
    ]);
  });

  it('APPROVAL: the automatic answer waits with a note; a manual answer is refused until the officer confirms', async () => {
    await belAuthority.call('setPeerPolicy', {
      policy: PeerPolicy.fromPartial({
        participantId: 'FRA',
        acceptRequests: true,
        autoAnswer: true,
        releaseRules: [{ field: 'history.end_user', action: A.RELEASE_ACTION_APPROVAL, reason: 'supervisor' }],
      }),
    });
    const { mine, theirs } = await trace('FX-APPR-0002');
    await waitFor(
      async () =>
        (await bel.node.workflow.get(theirs.caseId)).timeline.some(
          (t) =>
            t.summary ===
            'release needs approval: history[1].end_user (FRA release_rules[0]: supervisor); waiting for an officer',
        ),
      10_000,
      'the approval note',
    );
    await bel.node.workflow.stop(); // settles the automatic step: it must not have answered
    await bel.node.workflow.start();
    const waiting = await bel.node.workflow.get(theirs.caseId);
    expect(waiting.state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect(waiting.answer).toBeUndefined();

    // The officer answers with the record's history, without confirming: refused, nothing sent.
    const record = pistol('FX-APPR-0002');
    const manual = {
      caseId: theirs.caseId,
      outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
      lastLegalRecord: 'sold to a private person in Namur, 2016',
      history: record.events,
    };
    const refused = await belCases
      .call('answerCase', AnswerCaseRequest.fromPartial(manual))
      .catch((e: unknown) => TracenetError.from(e));
    if (!(refused instanceof TracenetError)) throw new Error('answered without confirmation');
    expect(refused.code).toBe(ErrorCode.ERROR_CODE_INVALID_FIELD);
    expect(refused.field).toBe('answer.history[1].end_user');
    expect(refused.rule).toBe('release_policy');
    expect((await bel.node.workflow.get(theirs.caseId)).state).toBe(S.CASE_STATE_ACKNOWLEDGED);

    // Confirmed: released as given.
    await belCases.call('answerCase', AnswerCaseRequest.fromPartial({ ...manual, release: ['history.end_user'] }));
    const answered = await until(fra.node, mine.caseId, S.CASE_STATE_ANSWERED);
    expect(answered.answer?.automatic).toBe(false);
    expect(answered.answer?.history[1]?.endUser).toBe(PRIVATE_BUYER);
    expect(answered.answer?.withheld).toEqual([]);
  });

  it('a manual answer is withheld by the same rules; WITHHOLD cannot be confirmed', async () => {
    await belAuthority.call('setPeerPolicy', {
      policy: PeerPolicy.fromPartial({
        participantId: 'FRA',
        acceptRequests: true,
        autoAcknowledge: true,
        releaseRules: [{ field: 'history.end_user', action: A.RELEASE_ACTION_WITHHOLD }],
      }),
    });
    const { mine, theirs } = await trace('FX-MANU-0003');
    await until(bel.node, theirs.caseId, S.CASE_STATE_ACKNOWLEDGED);
    const manual = {
      caseId: theirs.caseId,
      outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
      lastLegalRecord: 'sold to a private person in Namur, 2016',
      history: pistol('FX-MANU-0003').events,
    };
    const refused = await belCases
      .call('answerCase', AnswerCaseRequest.fromPartial({ ...manual, release: ['history[1].end_user'] }))
      .catch((e: unknown) => TracenetError.from(e));
    expect(refused).toMatchObject({ field: 'answer.history[1].end_user', rule: 'release_policy' });
    await belCases.call('answerCase', AnswerCaseRequest.fromPartial(manual));
    const answered = await until(fra.node, mine.caseId, S.CASE_STATE_ANSWERED);
    expect(answered.answer?.withheld).toEqual([
      { field: 'history[1].end_user', reason: '', availableOnRequest: false },
    ]);
    expect(JSON.stringify(answered)).not.toContain('Jean Martin');
  });

  it('a peer that sends a junk withheld list is REJECTED with every broken rule, and nothing is stored', async () => {
    const junk = TraceAnswer.encode(
      TraceAnswer.fromPartial({
        traceId: 'tHostileTrace0000001',
        outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
        lastLegalRecord: 'sold',
        history: [event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2016-04-08', { endUser: 'shown anyway' })],
        withheld: [
          { field: '../../etc/passwd', reason: '', availableOnRequest: false },
          { field: 'history[7].end_user', reason: '', availableOnRequest: false },
          { field: 'history[0].end_user', reason: '', availableOnRequest: false },
          { field: 'details', reason: 'r'.repeat(501), availableOnRequest: true },
          { field: 'details', reason: '', availableOnRequest: true },
          { field: `a${'.b'.repeat(60)}`, reason: '', availableOnRequest: false },
        ],
      }),
    ).finish();
    const messageId = newMessageId();
    const sealed = sealFrom(hostile.identity, fra.node.identity, clock.now(), {
      kind: MessageKind.MESSAGE_KIND_TRACE_ANSWER,
      body: junk,
      messageId,
    });
    const client = new RawFederationClient(
      fra.node.federationAddress,
      fra.node.identity.tlsCertificatePem,
      hostile.identity.tls,
    );
    let error: TracenetError | undefined;
    try {
      await client.deliver(sealed.bytes);
    } catch (raw) {
      error = TracenetError.from(raw);
    } finally {
      client.close();
    }
    expect(error?.code).toBe(ErrorCode.ERROR_CODE_INVALID_FIELD);
    expect(error?.violations.map((v) => `${v.field} ${v.rule}`)).toEqual([
      'body.withheld[0].field field_path',
      'body.withheld[1].field field_path',
      'body.withheld[2].field withheld_empty',
      'body.withheld[3].reason max_length',
      'body.withheld[4].field unique',
      'body.withheld[5].field field_path',
    ]);
    expect(
      (await fra.node.workflow.list({ limit: 500 })).cases.every((c) => c.traceId !== 'tHostileTrace0000001'),
    ).toBe(true);
  });
});
