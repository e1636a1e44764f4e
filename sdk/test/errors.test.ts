import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Case, CaseRole, CaseState, PeerPolicy, TraceRequest } from '@tracenet/proto';
import { connect, ErrorCode, TracenetError } from '../src/index.js';
import { createTestFederation, type TestFederation } from '../src/testing.js';
import { traceRequest } from './support/requests.js';

/** What the error of a call must carry. */
interface Expected {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly rule?: string;
  readonly violations?: boolean;
}

async function failure(promise: Promise<unknown>): Promise<TracenetError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TracenetError);
    return error as TracenetError;
  }
  throw new Error('the call succeeded');
}

describe('the client surfaces a typed error for each documented code', () => {
  let federation: TestFederation;
  beforeAll(async () => {
    federation = await createTestFederation({ participants: ['FRA', 'BEL'] });
  });
  afterAll(async () => {
    await federation?.stop();
  });

  const draft = async (): Promise<Case> => (await federation.client('FRA').cases.createCase({ recipient: 'BEL', request: traceRequest(), send: false })).case as Case;

  const table: ReadonlyArray<[string, () => Promise<unknown>, Expected]> = [
    ['MISSING_FIELD: SendNotice without recipient', () => federation.client('FRA').authority.sendNotice({ recipient: '', subject: 's', text: 't', correlationId: '' }), { code: ErrorCode.ERROR_CODE_MISSING_FIELD, field: 'recipient', rule: 'required' }],
    ['INVALID_FIELD: ListMessages over 1000', () => federation.client('FRA').authority.listMessages({ direction: 1, limit: 5000, cursor: '' }), { code: ErrorCode.ERROR_CODE_INVALID_FIELD, field: 'limit', rule: 'max' }],
    [
      'UNAUTHORIZED: a wrong token',
      async () => {
        const stranger = connect({ address: federation.node('FRA').authorityAddress, token: 'x'.repeat(43) });
        try {
          return await stranger.authority.getNodeInfo({});
        } finally {
          stranger.close();
        }
      },
      { code: ErrorCode.ERROR_CODE_UNAUTHORIZED, field: 'authorization', rule: 'bearer_token' },
    ],
    ['NOT_FOUND: a policy for a peer that is not pinned', () => federation.client('FRA').authority.setPeerPolicy({ policy: PeerPolicy.fromPartial({ participantId: 'KEN' }) }), { code: ErrorCode.ERROR_CODE_NOT_FOUND, field: 'policy.participant_id', rule: 'pinned_peer' }],
    ['NOT_FOUND: an unknown case', () => federation.client('FRA').cases.getCase({ caseId: 'case-999999' }), { code: ErrorCode.ERROR_CODE_NOT_FOUND }],
    ['REQUEST_INCOMPLETE: an empty trace request', () => federation.client('FRA').cases.createCase({ recipient: 'BEL', request: TraceRequest.fromPartial({}), send: true }), { code: ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE, violations: true }],
    ['ILLEGAL_TRANSITION: acknowledging our own draft', async () => federation.client('FRA').cases.acknowledgeCase({ caseId: (await draft()).caseId, reference: '' }), { code: ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION }],
    [
      'CASE_CLOSED: sending a withdrawn case',
      async () => {
        const fra = federation.client('FRA');
        const c = await draft();
        await fra.cases.withdrawCase({ caseId: c.caseId, reason: 'test' });
        return fra.cases.sendCase({ caseId: c.caseId });
      },
      { code: ErrorCode.ERROR_CODE_CASE_CLOSED, field: 'case_id', rule: 'case_open' },
    ],
  ];

  it.each(table)('%s', async (_name, call, expected) => {
    const error = await failure(call());
    expect(error.codeName).toBe(ErrorCode[expected.code].replace(/^ERROR_CODE_/, ''));
    expect(error.code).toBe(expected.code);
    if (expected.field !== undefined) expect(error.field).toBe(expected.field);
    if (expected.rule !== undefined) expect(error.rule).toBe(expected.rule);
    if (expected.violations) {
      expect(error.violations.length).toBeGreaterThan(0);
      expect(error.violations.every((v) => v.field !== '')).toBe(true);
    }
  });

  it('a draft is a requesting case (sanity of the table above)', async () => {
    const c = await draft();
    expect([c.role, c.state]).toEqual([CaseRole.CASE_ROLE_REQUESTER, CaseState.CASE_STATE_DRAFT]);
  });
});
