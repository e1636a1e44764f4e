import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  Case,
  CaseRole,
  CaseState,
  ErrorCode,
  OnwardDisclosure,
  ReasonCode,
  TraceOutcome,
  TracenetError,
  WeaponEventType,
} from '@tracenet/proto';
import { deadlineText, pages, parseDuration, wholeNumber } from '../../src/cli/context.js';
import { EXIT, exitCodeOf, reportFailure } from '../../src/cli/exit-codes.js';
import { caseText, requestFlag, requestIncompleteForCli } from '../../src/cli/trace-commands.js';
import { validateTraceRequest } from '../../src/messages/validation.js';
import { TraceRequest } from '@tracenet/proto';

const AT = Date.UTC(2026, 2, 1, 9, 0, 0);

/** A requester's case as the node returns it, with what a test sets on top. */
function requesterCase(extra: Partial<Case>): Case {
  return Case.fromPartial({
    caseId: 'case-000007',
    role: CaseRole.CASE_ROLE_REQUESTER,
    traceId: 'trace-0000000000000007',
    chainId: 'trace-0000000000000007',
    peer: 'BEL',
    state: CaseState.CASE_STATE_SENT,
    ...extra,
  });
}

describe('exit codes (docs/operations.md, "Exit codes")', () => {
  it('are distinct per kind of failure', () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
    expect(exitCodeOf('INVALID_FIELD')).toBe(EXIT.usage);
    expect(exitCodeOf('MISSING_FIELD')).toBe(EXIT.usage);
    expect(exitCodeOf('REQUEST_INCOMPLETE')).toBe(EXIT.usage);
    expect(exitCodeOf('NOT_FOUND')).toBe(EXIT.notFound);
    expect(exitCodeOf('KIND_NOT_ALLOWED')).toBe(EXIT.refusedByPeer);
    expect(exitCodeOf('UNAVAILABLE')).toBe(EXIT.unreachable);
    expect(exitCodeOf('DEADLINE_EXCEEDED')).toBe(EXIT.unreachable);
    expect(exitCodeOf('STORAGE_UNAVAILABLE', 'audit_damaged')).toBe(EXIT.auditBroken);
    expect(exitCodeOf('STORAGE_UNAVAILABLE', 'store_locked')).toBe(EXIT.failed);
    expect(exitCodeOf('INTERNAL')).toBe(EXIT.failed);
    // A backup's bad signature is this node's own check, not a peer's refusal.
    expect(exitCodeOf('BAD_SIGNATURE')).toBe(EXIT.failed);
    expect([EXIT.ok, EXIT.failed, EXIT.partialImport]).toEqual([0, 1, 2]);
  });

  it('--json turns a failure into one JSON object with code, message, field, rule and every violation', () => {
    const failure = new TracenetError(ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE, 'lacks content', {
      field: '--criterion',
      rule: 'required',
      violations: [
        { field: '--criterion', rule: 'required', message: 'a criterion is required' },
        { field: '--place', rule: 'required', message: 'the place is required' },
      ],
    });
    const reported = reportFailure(failure, true);
    expect(reported?.exitCode).toBe(EXIT.usage);
    expect(JSON.parse(reported?.text ?? '')).toEqual({
      error: {
        code: 'REQUEST_INCOMPLETE',
        message: 'lacks content',
        field: '--criterion',
        rule: 'required',
        violations: [
          { field: '--criterion', rule: 'required', message: 'a criterion is required' },
          { field: '--place', rule: 'required', message: 'the place is required' },
        ],
      },
    });
    expect(reportFailure(failure, false)?.text).toBe('tracenet: REQUEST_INCOMPLETE: lacks content (--criterion)\n');
  });

  it("reports commander's usage errors as USAGE (3), and help or version as no failure", () => {
    const usage = reportFailure(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"), true);
    expect(usage?.exitCode).toBe(EXIT.usage);
    expect(JSON.parse(usage?.text ?? '')).toMatchObject({ error: { code: 'USAGE', message: "unknown option '--x'" } });
    // Without --json commander has printed its own line already.
    expect(reportFailure(new CommanderError(1, 'commander.unknownOption', 'error: x'), false)).toEqual({
      exitCode: EXIT.usage,
      text: '',
    });
    expect(reportFailure(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), false)).toBeUndefined();
  });

  it('a bad whole number is INVALID_FIELD naming the flag, never a request that fails INTERNAL', () => {
    const limit = wholeNumber('limit', 1, 500);
    expect(limit('25')).toBe(25);
    for (const bad of ['abc', '', '0', '501', '2.5', '1e3x'])
      expect(() => limit(bad)).toThrow(
        expect.objectContaining({ codeName: 'INVALID_FIELD', field: 'limit', rule: 'range' }),
      );
  });
});

describe('paging', () => {
  const all = Array.from({ length: 7 }, (_, i) => `item-${i}`);
  const fetch = async (cursor: string, limit: number) => {
    const from = cursor === '' ? 0 : Number(cursor);
    const items = all.slice(from, from + limit);
    return { items, next: from + limit < all.length ? String(from + limit) : '' };
  };

  it('fetches one page from the page token, or every page with --all', async () => {
    expect(await pages({ limit: 3 }, fetch)).toEqual({ items: all.slice(0, 3), next: '3' });
    expect(await pages({ limit: 3, cursor: '3' }, fetch)).toEqual({ items: all.slice(3, 6), next: '6' });
    expect(await pages({ limit: 3, all: true }, fetch)).toEqual({ items: all, next: '' });
    expect(await pages({ limit: 2, cursor: '4', all: true }, fetch)).toEqual({ items: all.slice(4), next: '' });
  });
});

describe('policy deadlines as text', () => {
  it('keep their unit: 60 s is not "0 d"', () => {
    expect(deadlineText(parseDuration('60s'))).toBe('1 min');
    expect(deadlineText(parseDuration('90s'))).toBe('90 s');
    expect(deadlineText(parseDuration('90m'))).toBe('90 min');
    expect(deadlineText(parseDuration('36h'))).toBe('36 h');
    expect(deadlineText(parseDuration('2d'))).toBe('2 d');
    expect(deadlineText(parseDuration('30d'))).toBe('30 d');
    expect(deadlineText(parseDuration('1500ms'))).toBe('1500 ms');
  });
});

describe('case views without --json', () => {
  it('explain a refusal', () => {
    const c = requesterCase({
      state: CaseState.CASE_STATE_REFUSED,
      refusal: {
        traceId: 'trace-0000000000000007',
        reason: ReasonCode.REASON_CODE_NATIONAL_SECURITY,
        explanation: 'the weapon belongs to a classified stock',
      },
    });
    expect(caseText(c)).toContain('refused: national security: the weapon belongs to a classified stock');
  });

  it('explain a delay, with the date an answer can be expected', () => {
    const c = requesterCase({
      state: CaseState.CASE_STATE_DELAYED,
      delay: {
        traceId: 'trace-0000000000000007',
        reason: ReasonCode.REASON_CODE_ONGOING_CRIMINAL_INVESTIGATION,
        explanation: 'the archive is being moved',
        expectedBy: '2026-04-30',
      },
    });
    expect(caseText(c)).toContain(
      'delayed: ongoing criminal investigation, answer expected by 2026-04-30: the archive is being moved',
    );
  });

  it('explain a restriction and show its partial answer', () => {
    const c = requesterCase({
      state: CaseState.CASE_STATE_RESTRICTED,
      restriction: {
        traceId: 'trace-0000000000000007',
        reason: ReasonCode.REASON_CODE_LEGAL_CONFIDENTIALITY,
        explanation: 'the end user is protected by law',
        partialAnswer: {
          traceId: 'trace-0000000000000007',
          outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
          lastLegalRecord: 'sold to a dealer in Liège, 2011',
          pointOfDiversion: '',
          referral: undefined,
          history: [],
          details: '',
          automatic: false,
          restrictions: undefined,
          withheld: [],
        },
      },
    });
    const text = caseText(c);
    expect(text).toContain('restricted: legal confidentiality: the end user is protected by law');
    expect(text).toContain('partial answer:');
    expect(text).toContain('  outcome: traced: last legal record sold to a dealer in Liège, 2011');
  });

  it('show the content of an answer shared with us, not only its restrictions', () => {
    const c = Case.fromPartial({
      caseId: 'case-000009',
      role: CaseRole.CASE_ROLE_SHARED,
      peer: 'FRA',
      state: CaseState.CASE_STATE_ANSWERED,
      shared: {
        provider: 'BEL',
        providerTraceId: 'trace-0000000000000001',
        note: 'for the panel report',
        answer: {
          traceId: 'trace-0000000000000001',
          outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
          referral: { participant: 'KEN', basis: 'exported to KEN on 2012-03-14 under licence L-9' },
          history: [
            {
              type: WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED,
              date: '2012-03-14',
              destination: 'KEN',
              licence: 'L-9',
            },
          ],
          details: 'the shipment left Antwerp',
        },
        restrictions: {
          purpose: 'panel report',
          onwardDisclosure: OnwardDisclosure.ONWARD_DISCLOSURE_NONE,
          listedParticipants: [],
          retentionDays: 365,
        },
      },
    });
    const text = caseText(c);
    expect(text).toContain('shared by FRA, provided by BEL (trace trace-0000000000000001); note: for the panel report');
    expect(text).toContain('shared answer:');
    expect(text).toContain('  outcome: referred to KEN (exported to KEN on 2012-03-14 under licence L-9)');
    expect(text.some((line) => /^ {4}2012-03-14 +exported +to KEN +licence L-9/.test(line))).toBe(true);
    expect(text).toContain('  details: the shipment left Antwerp');
  });

  it('name the hit a trace was opened from, and the intended use', () => {
    const c = requesterCase({
      request: TraceRequest.fromPartial({
        hitReference: 'roi_AbCdEfGhIjKlMnOpQrStUv',
        intendedUse: 'seizure case 2026/77',
      }),
    });
    const text = caseText(c);
    expect(text).toContain('opened from the hit roi_AbCdEfGhIjKlMnOpQrStUv of a lookup');
    expect(text).toContain('intended use: seizure case 2026/77');
  });

  it('mark a request the peer refused for good instead of showing it merely "sent"', () => {
    const c = requesterCase({
      undelivered: {
        what: 'trace request',
        recipient: 'BEL',
        code: 'KIND_NOT_ALLOWED',
        reason: 'BEL does not accept trace requests from FRA',
        atMs: AT,
        messageId: 'msg-1',
      },
    });
    expect(caseText(c)[0]).toMatch(/state sent/);
    expect(caseText(c)).toContain(
      'REFUSED BY PEER: KIND_NOT_ALLOWED: the trace request to BEL (2026-03-01T09:00:00Z, message msg-1): BEL does not accept trace requests from FRA; withdraw the case or ask again',
    );
    const expired = requesterCase({
      undelivered: { what: 'trace request', recipient: 'BEL', code: 'EXPIRED', reason: '', atMs: AT, messageId: 'm' },
    });
    expect(caseText(expired).join('\n')).toContain('NOT DELIVERED: EXPIRED: the trace request to BEL');
  });
});

describe('"request incomplete" at the command line', () => {
  it('names the flags, not field paths, and lists every missing item', () => {
    let error: unknown;
    try {
      validateTraceRequest(TraceRequest.fromPartial({ traceId: 'trace-0000000000000007', weapon: { markings: {} } }));
    } catch (e) {
      error = e;
    }
    const original = TracenetError.from(error);
    expect(original.violations.length).toBeGreaterThan(5);
    const shown = TracenetError.from(requestIncompleteForCli(error));
    expect(shown.codeName).toBe('REQUEST_INCOMPLETE');
    for (const flag of [
      '--criterion',
      '--finding, --date and --place',
      '--serial',
      '--manufacturer',
      '--type',
      '--priority',
      '--authority',
      '--reference',
      '--intended-use',
    ])
      expect(shown.message).toContain(`${flag}: `);
    expect(shown.message).not.toMatch(/request\.|illicit_criteria|weapon\.markings/);
    expect(shown.message).toContain(`lacks ${original.violations.length} items`);
    expect(shown.violations).toHaveLength(original.violations.length);
    expect(requestFlag('request.illicit_criteria[2].legal_basis')).toBe(
      '--criterion (the legal basis after the colon)',
    );
    expect(requestFlag('request.weapon.photos[0].content')).toBe('--file (weapon.photos[].content)');
  });

  it('leaves other errors as they are', () => {
    const other = new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no case');
    expect(requestIncompleteForCli(other)).toBe(other);
  });
});
