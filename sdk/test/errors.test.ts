import { Server, ServerCredentials, type ServiceError, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { generateKeyPairs, initSodium, issuePeerCard, keyIdOf, loadIdentity } from '@tracenet/node';
import {
  AuthorityService,
  type Case,
  CaseRole,
  CaseState,
  LookupOutcome,
  type LookupRequest,
  type LookupResponse,
  MessageDirection,
  PeerPolicy,
  TraceOutcome,
  TraceRequest,
  WeaponEventType,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  ERROR_CODES,
  ErrorCode,
  errorCodeName,
  errorFromCodeName,
  readErrorDetail,
  type TracenetClient,
  TracenetError,
} from '../src/index.js';
import { createTestFederation, type TestFederation } from '../src/testing.js';
import { documentedCodes } from './support/error-docs.js';
import { rifle } from './support/records.js';
import { traceRequest } from './support/requests.js';

/**
 * Every code of docs/errors.md, as an SDK user meets it. The codes fall into three tables that
 * together hold each code of ERROR_CODES exactly once (checked below), so a new code cannot be
 * forgotten:
 *
 * - PROVOKED: provoked for real against node processes through the SDK client, and checked
 *   against the docs table (code, gRPC status on the wire, field, rule, retryable).
 * - NEVER_FROM_THE_AUTHORITY_API: codes of the Federation service and of receipts, which no
 *   Authority call returns; shown, where a real federation can produce them, the way an SDK user
 *   sees them: as the `lastError` of a message in `listMessages`.
 * - NOT_ON_DEMAND: codes the Authority API does return, but that a healthy node of this version
 *   cannot be made to return from outside; decoded from a stand-in server that answers exactly as
 *   the node's handlers do.
 */

const DOCS = documentedCodes();
const doc = (code: ErrorCode) => {
  const row = DOCS.get(errorCodeName(code));
  if (!row) throw new Error(`${errorCodeName(code)} is not in docs/errors.md`);
  return row;
};
const ALL_CODES = Object.keys(ERROR_CODES).map((value) => Number(value) as ErrorCode);

/** How the SDK user meets an error. */
type Channel = 'thrown by the call' | 'per-peer lookup result' | 'failed message' | 'queued message';

interface Observed {
  readonly error: TracenetError;
  readonly channel: Channel;
}

/** What the Authority API returns for a call, with the field and rule its detail names. */
interface Provocation {
  readonly code: ErrorCode;
  readonly how: string;
  readonly provoke: () => Promise<Observed>;
  /** For errors thrown by a call: the detail's field and rule ('' when the status carries no detail). */
  readonly field?: string;
  readonly rule?: string;
  readonly violations?: boolean;
}

/** A code no Authority call returns, why, and where an SDK user can still meet it. */
interface Unreturnable {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly seen?: () => Promise<Observed>;
}

/** A code the Authority API may return but a healthy node cannot be made to; `status` is what the node's handlers send. */
interface NotOnDemand {
  readonly code: ErrorCode;
  readonly reason: string;
  /** The stand-in's answer: a TracenetError as the node's handlers turn it into a status, or 'not served'. */
  readonly answer: TracenetError | 'not served';
}

async function thrown(promise: Promise<unknown>): Promise<Observed> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TracenetError);
    return { error: error as TracenetError, channel: 'thrown by the call' };
  }
  throw new Error('the call succeeded');
}

/** Polls `read` until `done` holds. */
async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The error a message in `direction` carries once it has one: how `listMessages` shows a refusal. */
async function messageError(
  client: TracenetClient,
  direction: MessageDirection,
  find: (m: { messageId: string; correlationId: string }) => boolean,
): Promise<Observed> {
  const messages = await poll(
    async () => (await client.authority.listMessages({ direction, limit: 1000, cursor: '' })).messages,
    (list) => list.some((m) => find(m) && m.lastError !== ''),
    `a message with an error in direction ${MessageDirection[direction]}`,
  );
  const message = messages.find((m) => find(m) && m.lastError !== '');
  return {
    error: errorFromCodeName(message?.lastError ?? ''),
    channel: direction === MessageDirection.MESSAGE_DIRECTION_FAILED ? 'failed message' : 'queued message',
  };
}

function peerError(response: LookupResponse, peer: string): Observed {
  const result = response.results.find((r) => r.peer === peer);
  expect(result?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_ERROR);
  return { error: errorFromCodeName(result?.errorCode ?? ''), channel: 'per-peer lookup result' };
}

/** Checks an observed error against the docs table. */
function expectDocumented(
  observed: Observed,
  code: ErrorCode,
  expected: { field?: string; rule?: string; violations?: boolean } = {},
): void {
  const { error, channel } = observed;
  const row = doc(code);
  expect(error).toBeInstanceOf(TracenetError);
  expect([error.code, error.codeName]).toEqual([code, row.code]);
  expect(error.retryable, `${row.code}: retryable as docs/errors.md says`).toBe(row.retryable);
  // The outbox keeps retrying exactly the retryable codes (and OUTSIDE_TIME_WINDOW, with new seals); the others fail for good.
  if (channel === 'queued message')
    expect(
      row.retryable || code === ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW,
      `${row.code} is retried by the outbox`,
    ).toBe(true);
  if (channel === 'failed message') expect(row.retryable, `${row.code} failed the message for good`).toBe(false);
  if (channel !== 'thrown by the call') return;
  // The status on the wire is the one the docs name, and the detail the node sent agrees.
  const cause = error.cause as ServiceError;
  expect(cause.code, `${row.code}: gRPC status`).toBe(row.grpc);
  const detail = readErrorDetail(cause.metadata);
  if (detail) expect([detail.code, detail.retryable]).toEqual([code, row.retryable]);
  if (expected.field !== undefined) expect(error.field).toBe(expected.field);
  if (expected.rule !== undefined) expect(error.rule).toBe(expected.rule);
  if (expected.violations) {
    expect(error.violations.length).toBeGreaterThan(0);
    expect(error.violations.every((v) => v.field !== '')).toBe(true);
  }
}

const PURPOSE = 'seizure at the port of Marseille, case OCLCO-2026-0211';
const lookup = (peers: string[]): LookupRequest => ({
  weapon: { manufacturer: 'FN Herstal', serialNumber: 'FX-0412-2231', model: '', calibre: '', type: 0 },
  purpose: PURPOSE,
  peers,
  deadlineMs: 3000,
  requestingAuthority: 'OCLCO',
});

describe('the client surfaces a typed error for each documented code', () => {
  /** FRA asks; BEL accepts FRA's requests and one lookup a minute; KEN accepts nothing. */
  let main: TestFederation;
  /** A second federation (another node calling itself FRA, and NLD): short replay window, slow retries. */
  let outsiders: TestFederation;
  beforeAll(async () => {
    await initSodium();
    [main, outsiders] = await Promise.all([
      createTestFederation({
        participants: ['FRA', 'BEL', 'KEN'],
        policies: [
          {
            of: 'BEL',
            policy: {
              participantId: 'FRA',
              acceptRequests: true,
              autoAcknowledge: true,
              allowLookups: true,
              lookupsPerMinute: 1,
            },
          },
        ],
        // Envelopes of at most 64 KiB, so that a long notice is too large.
        env: { TRACENET_ENVELOPE_MAX_BYTES: '65536' },
      }),
      createTestFederation({
        participants: ['FRA', 'NLD'],
        env: {
          TRACENET_ENVELOPE_REPLAY_WINDOW_MS: '1000',
          TRACENET_OUTBOX_INITIAL_BACKOFF_MS: '60000',
          TRACENET_OUTBOX_MAX_BACKOFF_MS: '60000',
        },
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([main?.stop(), outsiders?.stop()]);
  });

  const fra = () => main.client('FRA');
  const bel = () => main.client('BEL');
  const draft = async (): Promise<Case> =>
    (await fra().cases.createCase({ recipient: 'BEL', request: traceRequest(), send: false })).case as Case;
  const getCase = async (client: TracenetClient, caseId: string) =>
    (await client.cases.getCase({ caseId })).case as Case;

  /** A request of FRA to BEL, acknowledged by BEL's policy and answered by BEL's officer; FRA's case once answered. */
  async function answered(
    outcome: TraceOutcome.TRACE_OUTCOME_TRACED | TraceOutcome.TRACE_OUTCOME_REFERRED,
  ): Promise<Case> {
    const mine = (await fra().cases.createCase({ recipient: 'BEL', request: traceRequest(), send: true })).case as Case;
    const theirs = await poll(
      async () =>
        (
          await bel().cases.listCases({
            role: CaseRole.CASE_ROLE_REQUESTED,
            state: 0,
            peer: 'FRA',
            overdueOnly: false,
            limit: 500,
            cursor: '',
          })
        ).cases.find((c) => c.traceId === mine.traceId),
      (c) => c?.state === CaseState.CASE_STATE_ACKNOWLEDGED,
      'the request acknowledged at BEL',
    );
    const referred = outcome === TraceOutcome.TRACE_OUTCOME_REFERRED;
    await bel().cases.answerCase({
      caseId: theirs?.caseId ?? '',
      outcome,
      lastLegalRecord: referred ? '' : 'sold to licensed dealer Armes Dupont, 2015-06-02',
      pointOfDiversion: '',
      referral: referred
        ? {
            participant: 'KEN',
            basis: 'exported 2012-03-14 to KEN under licence BE-EXP-2012-0413',
            event: {
              type: WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED,
              date: '2012-03-14',
              place: '',
              agency: '',
              destination: 'KEN',
              origin: '',
              licence: 'BE-EXP-2012-0413',
              endUser: 'Kenya Police Service',
              details: '',
              circumstance: 0,
              undertaking: undefined,
            },
          }
        : undefined,
      history: [],
      details: 'from our export register',
      restrictions: undefined,
      release: [],
    });
    return poll(
      () => getCase(fra(), mine.caseId),
      (c) => c.state === CaseState.CASE_STATE_ANSWERED,
      'the answer at FRA',
    );
  }

  /** Runs `during` while KEN's process is stopped (SIGSTOP): it accepts connections but answers nothing. */
  async function whileKenHangs<T>(during: () => Promise<T>): Promise<T> {
    const pid = main.node('KEN').pid;
    process.kill(pid, 'SIGSTOP');
    try {
      return await during();
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  }

  const PROVOKED: readonly Provocation[] = [
    {
      code: ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE,
      how: 'a notice longer than the envelopes the node sends (envelope.maxBytes 64 KiB here)',
      provoke: () =>
        thrown(
          fra().authority.sendNotice({
            recipient: 'BEL',
            subject: 'register extract',
            text: 'x'.repeat(70_000),
            correlationId: '',
          }),
        ),
      field: 'body',
      rule: 'max_envelope_bytes',
    },
    {
      code: ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE,
      how: 'a request larger than the Authority port accepts (4 MiB): grpc-js refuses it without a detail',
      provoke: () =>
        thrown(
          fra().authority.sendNotice({
            recipient: 'BEL',
            subject: 'register extract',
            text: 'x'.repeat(5 * 1024 * 1024),
            correlationId: '',
          }),
        ),
      field: '',
      rule: '',
    },
    {
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      how: 'SendNotice without a recipient',
      provoke: () => thrown(fra().authority.sendNotice({ recipient: '', subject: 's', text: 't', correlationId: '' })),
      field: 'recipient',
      rule: 'required',
    },
    {
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      how: 'ListMessages with a limit above 1000',
      provoke: () => thrown(fra().authority.listMessages({ direction: 1, limit: 5000, cursor: '' })),
      field: 'limit',
      rule: 'max',
    },
    {
      code: ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED,
      how: 'a lookup at KEN, whose policy does not allow FRA lookups',
      provoke: async () => peerError(await fra().lookups.lookup(lookup(['KEN'])), 'KEN'),
    },
    {
      code: ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED,
      how: 'a trace request to KEN, whose policy accepts no requests: the message fails for good, the case says why',
      provoke: async () => {
        const sent = (await fra().cases.createCase({ recipient: 'KEN', request: traceRequest('FX-KEN-1'), send: true }))
          .case as Case;
        const observed = await messageError(
          fra(),
          MessageDirection.MESSAGE_DIRECTION_FAILED,
          (m) => m.correlationId === sent.traceId,
        );
        const noted = await poll(
          () => getCase(fra(), sent.caseId),
          (c) => c.timeline.some((t) => t.summary.includes('not delivered')),
          'the refusal noted on the case',
        );
        expect(noted.timeline.at(-1)?.summary).toMatch(/^trace request not delivered to KEN: KIND_NOT_ALLOWED/);
        return observed;
      },
    },
    {
      code: ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
      how: "AddPeer with the node's own card",
      provoke: async () => thrown(fra().authority.addPeer({ card: (await fra().authority.getNodeInfo({})).card })),
      field: 'card.participant_id',
      rule: 'not_self',
    },
    {
      code: ErrorCode.ERROR_CODE_UNAUTHORIZED,
      how: 'a wrong token',
      provoke: async () => {
        const stranger = connect({ address: main.node('FRA').authorityAddress, token: 'x'.repeat(43) });
        try {
          return await thrown(stranger.authority.getNodeInfo({}));
        } finally {
          stranger.close();
        }
      },
      field: 'authorization',
      rule: 'bearer_token',
    },
    {
      code: ErrorCode.ERROR_CODE_FORBIDDEN,
      how: "an auditor client's API key on a write (a client does not end setup mode)",
      provoke: async () => {
        const { apiKey } = await fra().access.addClient({
          clientId: 'errors-auditor',
          roles: ['auditor'],
          expiresAtMs: Date.now() + 3_600_000,
        });
        const auditor = connect({ address: main.node('FRA').authorityAddress, apiKey });
        try {
          return await thrown(
            auditor.authority.setPeerPolicy({ policy: PeerPolicy.fromPartial({ participantId: 'BEL' }) }),
          );
        } finally {
          auditor.close();
        }
      },
      field: 'authorization',
      rule: 'role',
    },
    {
      code: ErrorCode.ERROR_CODE_NOT_FOUND,
      how: 'a policy for a peer that is not pinned',
      provoke: () =>
        thrown(fra().authority.setPeerPolicy({ policy: PeerPolicy.fromPartial({ participantId: 'DEU' }) })),
      field: 'policy.participant_id',
      rule: 'pinned_peer',
    },
    {
      code: ErrorCode.ERROR_CODE_NOT_FOUND,
      how: 'an unknown case',
      provoke: () => thrown(fra().cases.getCase({ caseId: 'case-999999' })),
      field: 'case_id',
      rule: 'exists',
    },
    {
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      how: 'a call with a 300 ms deadline to a node that hangs',
      provoke: () => whileKenHangs(() => thrown(main.client('KEN').authority.getNodeInfo({}, { deadlineMs: 300 }))),
      field: '',
      rule: '',
    },
    {
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      how: 'a call in flight when the node dies (SIGKILL), without retries',
      provoke: async () => {
        const client = connect({
          address: main.node('KEN').authorityAddress,
          token: main.node('KEN').token,
          retries: { maxRetries: 0 },
        });
        try {
          await client.authority.getNodeInfo({}); // connected
          const { pid } = main.node('KEN');
          process.kill(pid, 'SIGSTOP');
          const pending = thrown(client.authority.getNodeInfo({}, { deadlineMs: 20_000 }));
          await new Promise((r) => setTimeout(r, 200));
          process.kill(pid, 'SIGKILL');
          return await pending;
        } finally {
          client.close();
          await main.restart('KEN');
        }
      },
      field: '',
      rule: '',
    },
    {
      code: ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
      how: 'acknowledging our own draft',
      provoke: async () => thrown(fra().cases.acknowledgeCase({ caseId: (await draft()).caseId, reference: '' })),
      field: 'case_id',
      rule: 'draft+trace_acknowledgement',
    },
    {
      code: ErrorCode.ERROR_CODE_CASE_CLOSED,
      how: 'sending a withdrawn case',
      provoke: async () => {
        const c = await draft();
        await fra().cases.withdrawCase({ caseId: c.caseId, reason: 'test' });
        return thrown(fra().cases.sendCase({ caseId: c.caseId }));
      },
      field: 'case_id',
      rule: 'case_open',
    },
    {
      code: ErrorCode.ERROR_CODE_RETENTION_PERIOD,
      how: 'deleting a record of a rifle made in 1998',
      provoke: async () => {
        const { record } = await fra().records.putRecord({ record: rifle('ERR-RET-1') });
        const error = await thrown(fra().records.deleteRecord({ recordId: record?.recordId ?? '' }));
        expect(error.error.message).toMatch(/may be deleted from 2028-03-02/);
        return error;
      },
      field: 'record_id',
      rule: 'retention_period',
    },
    {
      code: ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE,
      how: 'an empty trace request',
      provoke: () =>
        thrown(fra().cases.createCase({ recipient: 'BEL', request: TraceRequest.fromPartial({}), send: true })),
      violations: true,
    },
    {
      code: ErrorCode.ERROR_CODE_ALREADY_EXISTS,
      how: 'a second follow-on of a referred case',
      provoke: async () => {
        const c = await answered(TraceOutcome.TRACE_OUTCOME_REFERRED);
        await fra().cases.followOn({
          caseId: c.caseId,
          intendedUse: '',
          otherInformation: 'referred by BEL',
          send: true,
        });
        return thrown(
          fra().cases.followOn({ caseId: c.caseId, intendedUse: '', otherInformation: 'again', send: true }),
        );
      },
      field: 'case_id',
      rule: 'one_follow_on',
    },
    {
      code: ErrorCode.ERROR_CODE_RATE_LIMITED,
      how: 'a second lookup at BEL within the minute (BEL allows FRA one a minute)',
      provoke: async () => {
        const first = await fra().lookups.lookup(lookup(['BEL']));
        expect(first.results[0]?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
        return peerError(await fra().lookups.lookup(lookup(['BEL'])), 'BEL');
      },
    },
    {
      code: ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED,
      how: "sharing BEL's answer with KEN without BEL's consent",
      provoke: async () => {
        const c = await answered(TraceOutcome.TRACE_OUTCOME_TRACED);
        return thrown(
          fra().cases.shareCase({ caseId: c.caseId, thirdParticipant: 'KEN', note: 'for the joint investigation' }),
        );
      },
      field: 'third_participant',
      rule: 'use_restrictions',
    },
  ];

  /** A card that names BEL's federation endpoint and TLS certificate but another participant and keys: an endpoint pinned by mistake. */
  async function misdirectedCard(participantId: string) {
    const bel = main.node('BEL');
    const identity = await loadIdentity(bel.dataDir);
    const keys = generateKeyPairs();
    const { kind, displayName, tlsCertificateDer, cardValidityDays } = identity;
    return issuePeerCard(
      {
        participantId,
        kind,
        displayName,
        tlsCertificateDer,
        cardValidityDays,
        keys,
        keyId: keyIdOf(keys.signingPublicKey, keys.encryptionPublicKey),
      },
      [bel.federationAddress],
      Date.now(),
    );
  }

  const FEDERATION_ONLY = 'only the Federation service and receipts carry it';
  const NEVER_FROM_THE_AUTHORITY_API: readonly Unreturnable[] = [
    {
      code: ErrorCode.ERROR_CODE_UNSPECIFIED,
      reason:
        'never raised: it is the error code of ACCEPTED and DUPLICATE receipts; a code name this SDK does not know decodes to it',
    },
    {
      code: ErrorCode.ERROR_CODE_MALFORMED,
      reason: `${FEDERATION_ONLY} (bytes that are not the expected protobuf); the SDK only sends what it encoded, and a reference node never sends such bytes`,
    },
    {
      code: ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION,
      reason: `${FEDERATION_ONLY}; a reference node seals version 1 only`,
    },
    {
      code: ErrorCode.ERROR_CODE_WRONG_RECIPIENT,
      reason: `${FEDERATION_ONLY}; an SDK user sees it as the lastError of a failed message`,
      seen: async () => {
        // FRA pins a card for ESP whose endpoint and certificate are BEL's: BEL receives ESP's envelope.
        await fra().authority.addPeer({ card: await misdirectedCard('ESP') });
        const { messageId } = await fra().authority.sendNotice({
          recipient: 'ESP',
          subject: 'hello',
          text: 'to the wrong node',
          correlationId: '',
        });
        return messageError(fra(), MessageDirection.MESSAGE_DIRECTION_FAILED, (m) => m.messageId === messageId);
      },
    },
    // Between reference nodes a sender whose certificate the receiver has not pinned gets no connection (protocol 2.5): UNAVAILABLE.
    {
      code: ErrorCode.ERROR_CODE_UNKNOWN_SENDER,
      reason: `${FEDERATION_ONLY}; between reference nodes it comes once the sender's pinned card has expired or a roster no longer lists it (a day at least, too long to wait for here), as the lastError of a message still queued`,
    },
    {
      code: ErrorCode.ERROR_CODE_SENDER_KEY_MISMATCH,
      reason:
        'a precise reason a receiver keeps for its audit log and metrics: it answers UNKNOWN_SENDER (protocol 4.4); nodes of earlier versions sent it',
    },
    {
      code: ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED,
      reason:
        'a precise reason a receiver keeps for its audit log and metrics: it answers UNKNOWN_SENDER (protocol 4.4); a lookup reports it for an answer that fails the AEAD check, which needs a forged answer',
    },
    {
      code: ErrorCode.ERROR_CODE_BAD_SIGNATURE,
      reason: `${FEDERATION_ONLY} (and a lookup answer's per-peer result); it needs a forged signature or answer, which a reference node never sends`,
    },
    {
      code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW,
      reason: `${FEDERATION_ONLY}; the outbox retries it with new seals, so an SDK user sees it as the lastError of a message still queued`,
      seen: async () => {
        // NLD (replay window 1 s) hangs for 2 s while FRA's envelope waits at its door.
        const nld = outsiders.node('NLD');
        process.kill(nld.pid, 'SIGSTOP');
        let messageId = '';
        try {
          ({ messageId } = await outsiders.client('FRA').authority.sendNotice({
            recipient: 'NLD',
            subject: 'late',
            text: 'sealed 2 s before it is read',
            correlationId: '',
          }));
          await new Promise((r) => setTimeout(r, 2000));
        } finally {
          process.kill(nld.pid, 'SIGCONT');
        }
        return messageError(
          outsiders.client('FRA'),
          MessageDirection.MESSAGE_DIRECTION_OUTBOX,
          (m) => m.messageId === messageId,
        );
      },
    },
    {
      code: ErrorCode.ERROR_CODE_EXPIRED,
      reason: `${FEDERATION_ONLY} and failed messages; a message lives at least 60 s (envelope.defaultTtlMs), too long to wait for here, and a receiver sees it only with a skewed clock`,
    },
    {
      code: ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED,
      reason: `${FEDERATION_ONLY}; it needs a sender that reuses a message id, which the reference outbox never does`,
    },
    {
      code: ErrorCode.ERROR_CODE_SHUTTING_DOWN,
      reason: 'reserved, not raised by this version: a stopping node refuses calls with a plain UNAVAILABLE',
    },
  ];

  const NOT_ON_DEMAND: readonly NotOnDemand[] = [
    {
      code: ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE,
      reason: 'LevelDB refusing a write (full disk, lost permissions) cannot be caused from outside a running node',
      answer: new TracenetError(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, 'the store refused a write', {
        rule: 'store_write',
      }),
    },
    {
      code: ErrorCode.ERROR_CODE_INTERNAL,
      reason: 'a bug in the node; the node answers it without its message',
      answer: new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'internal error; nothing was written', {
        rule: 'internal',
      }),
    },
    {
      code: ErrorCode.ERROR_CODE_UNIMPLEMENTED,
      reason: 'every method of this SDK is served by a node of this version; an older node answers it',
      answer: 'not served',
    },
  ];

  it('the three tables hold every code of ERROR_CODES exactly once, and docs/errors.md documents each', () => {
    const provoked = new Set(PROVOKED.map((p) => p.code));
    const listed = [
      ...provoked,
      ...NEVER_FROM_THE_AUTHORITY_API.map((u) => u.code),
      ...NOT_ON_DEMAND.map((n) => n.code),
    ].map(errorCodeName);
    expect(new Set(listed).size, `a code is in two tables: ${listed.join(', ')}`).toBe(listed.length);
    expect([...listed].sort()).toEqual(ALL_CODES.map(errorCodeName).sort());
    expect([...DOCS.keys()].sort()).toEqual(ALL_CODES.map(errorCodeName).sort());
  });

  it.each(PROVOKED.map((p) => [`${errorCodeName(p.code)}: ${p.how}`, p] as const))('%s', async (_name, p) => {
    const observed = await p.provoke();
    expectDocumented(observed, p.code, p);
    if (observed.channel === 'thrown by the call')
      expect(p.field !== undefined || p.violations, 'a thrown error names its field').toBeTruthy();
  });

  it.each(
    NEVER_FROM_THE_AUTHORITY_API.filter((u) => u.seen).map(
      (u) => [`${errorCodeName(u.code)}: ${u.reason}`, u] as const,
    ),
  )('%s', async (_name, u) => {
    const observed = await (u.seen as () => Promise<Observed>)();
    expect(observed.channel).not.toBe('thrown by the call');
    expectDocumented(observed, u.code);
  });

  it.each(NOT_ON_DEMAND.map((n) => [`${errorCodeName(n.code)}: ${n.reason}`, n] as const))(
    '%s (decoded from a stand-in server)',
    async (_name, n) => {
      // A server that offers the Authority service only, answering GetNodeInfo with the node's status.
      const server = new Server();
      server.addService(AuthorityService, {
        getNodeInfo: (_call: unknown, callback: (error: unknown) => void) =>
          callback(n.answer === 'not served' ? null : n.answer.toStatus()),
      } as unknown as UntypedServiceImplementation);
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
      );
      const client = connect({ address: `127.0.0.1:${port}`, token: 't', retries: { maxRetries: 0 } });
      try {
        const call =
          n.answer === 'not served'
            ? client.records.getRecord({ recordId: 'rec_1' })
            : client.authority.getNodeInfo({});
        const observed = await thrown(call);
        expectDocumented(
          observed,
          n.code,
          n.answer === 'not served' ? { field: '', rule: '' } : { rule: n.answer.rule },
        );
      } finally {
        client.close();
        server.forceShutdown();
      }
    },
  );

  it('a code name the SDK does not know (a newer node) decodes to UNSPECIFIED; every documented name decodes to its code', () => {
    expect(errorFromCodeName('A_CODE_FROM_A_NEWER_NODE').code).toBe(ErrorCode.ERROR_CODE_UNSPECIFIED);
    expect(errorFromCodeName('').code).toBe(ErrorCode.ERROR_CODE_UNSPECIFIED);
    for (const code of ALL_CODES) {
      const name = errorCodeName(code);
      for (const decoded of [errorFromCodeName(name), errorFromCodeName(`ERROR_CODE_${name}`)]) {
        expect([decoded.code, decoded.codeName, decoded.retryable]).toEqual([code, name, doc(code).retryable]);
      }
    }
  });

  it('every decoded error is retryable exactly when docs/errors.md says so, whatever the status it arrives with', () => {
    for (const code of ALL_CODES) {
      const error = TracenetError.from(Object.assign(new Error('x'), new TracenetError(code, 'x').toStatus()));
      expect([error.code, error.retryable], errorCodeName(code)).toEqual([code, doc(code).retryable]);
    }
  });
});
