import type { ServiceRegistrar } from './service-table.js';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  type Approval,
  type Case,
  type CaseResponse,
  type CasesServer,
  CasesService,
  ErrorCode,
  ReexportDirection,
  TracenetError,
  type TraceRequest,
} from '@tracenet/proto';
import type { Logger } from 'pino';
import type { Approvals } from '../workflow/approvals.js';
import { answerInput } from '../workflow/officer-commands.js';
import type { Workflow } from '../workflow/workflow.js';
import { type AuthorityCredentials, decodingTolerantly, guardedUnary } from './grpc-handlers.js';

function requireCaseId(caseId: string): string {
  if (caseId === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'case_id is required', {
      field: 'case_id',
      rule: 'required',
    });
  return caseId;
}

function requireThird(participant: string): string {
  if (participant === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'third_participant is required', {
      field: 'third_participant',
      rule: 'required',
    });
  return participant;
}

/**
 * Registers the Cases service (the ITI workflow part of the Authority API) on the Authority
 * server. Every call needs the bearer token.
 */
export function addCasesService(
  server: ServiceRegistrar,
  deps: { workflow: Workflow; approvals?: Approvals; token: AuthorityCredentials; logger: Logger },
): void {
  const logger = deps.logger.child({ component: 'cases-api' });
  const w = deps.workflow;
  const guarded = guardedUnary(logger, deps.token);
  const approvals = deps.approvals;
  /** The case after a step, and the approval it waits for when the approval policy held it (12.12). */
  const one = async (step: Case | (() => Promise<Case>)): Promise<CaseResponse> => {
    if (typeof step !== 'function') return { case: step, pendingApproval: undefined };
    if (!approvals) return { case: await step(), pendingApproval: undefined };
    const { result, held } = await approvals.collect(step);
    return { case: result, pendingApproval: held };
  };
  const requireApprovals = (): Approvals => {
    if (!approvals)
      throw new TracenetError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'this node keeps no approvals queue', {
        rule: 'approvals',
      });
    return approvals;
  };
  const approvalResponse = (r: { approval: Approval; case?: Case | undefined }) => ({
    approval: r.approval,
    case: r.case,
  });

  /** The recipient and request of a draft (CreateCase, CheckRequest): both required. */
  const draftOf = (r: { recipient: string; request?: TraceRequest | undefined }): TraceRequest => {
    if (r.recipient === '')
      throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'recipient is required', {
        field: 'recipient',
        rule: 'required',
      });
    if (!r.request)
      throw new TracenetError(ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE, 'request is required', {
        field: 'request',
        rule: 'required',
      });
    return r.request;
  };

  const implementation: CasesServer = {
    checkRequest: guarded(async (r) => ({ check: w.checkRequest(r.recipient, draftOf(r)) })),
    notifyReexport: guarded(async (r) => one(await w.notifyReexport(requireCaseId(r.caseId), r.flagId))),
    listReexportFlags: guarded(async (r) => {
      const d = ReexportDirection;
      if (!(r.direction in d) || r.direction < 0)
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'direction is not known', {
          field: 'direction',
          rule: 'enum',
        });
      const all = r.direction === d.REEXPORT_DIRECTION_UNSPECIFIED;
      return w.reexportFlags(
        all || r.direction === d.REEXPORT_DIRECTION_RAISED,
        all || r.direction === d.REEXPORT_DIRECTION_RECEIVED,
      );
    }),
    createCase: guarded(async (r) => one(await w.createCase(r.recipient, draftOf(r), r.send))),
    sendCase: guarded(async (r) => one(await w.sendCase(requireCaseId(r.caseId)))),
    listCases: guarded(async (r) => {
      if (r.limit > 500)
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'limit must be at most 500', {
          field: 'limit',
          rule: 'max',
        });
      return w.list({
        ...(r.role ? { role: r.role } : {}),
        ...(r.state ? { state: r.state } : {}),
        ...(r.peer ? { peer: r.peer } : {}),
        overdueOnly: r.overdueOnly,
        limit: r.limit || 100,
        ...(r.cursor ? { cursor: r.cursor } : {}),
      });
    }),
    getCase: guarded(async (r) => one(await w.get(requireCaseId(r.caseId)))),
    acknowledgeCase: guarded(async (r) => one(await w.acknowledge(requireCaseId(r.caseId), r.reference))),
    answerCase: guarded(async (r) => one(() => w.answer(requireCaseId(r.caseId), answerInput(r)))),
    delayCase: guarded(async (r) => one(await w.delay(requireCaseId(r.caseId), r.reason, r.explanation, r.expectedBy))),
    restrictCase: guarded(async (r) =>
      one(() =>
        w.restrict(
          requireCaseId(r.caseId),
          r.reason,
          r.explanation,
          r.partialAnswer ? answerInput(r.partialAnswer) : undefined,
        ),
      ),
    ),
    refuseCase: guarded(async (r) => one(() => w.refuse(requireCaseId(r.caseId), r.reason, r.explanation))),
    requestClarification: guarded(async (r) => one(await w.requestClarification(requireCaseId(r.caseId), r.question))),
    replyClarification: guarded(async (r) =>
      one(await w.replyClarification(requireCaseId(r.caseId), r.answer, r.weapon)),
    ),
    closeCase: guarded(async (r) => one(await w.close(requireCaseId(r.caseId), r.useful, r.feedback))),
    withdrawCase: guarded(async (r) => one(await w.withdraw(requireCaseId(r.caseId), r.reason))),
    followOn: guarded(async (r) =>
      one(
        await w.followOn(
          requireCaseId(r.caseId),
          { intendedUse: r.intendedUse, otherInformation: r.otherInformation },
          r.send,
        ),
      ),
    ),
    getTraceChain: guarded(async (r) => w.chain(requireCaseId(r.caseId))),
    shareCase: guarded(async (r) =>
      one(() => w.shareCase(requireCaseId(r.caseId), requireThird(r.thirdParticipant), r.note)),
    ),
    requestConsent: guarded(async (r) =>
      one(await w.requestConsent(requireCaseId(r.caseId), requireThird(r.thirdParticipant), r.reason)),
    ),
    decideConsent: guarded(async (r) =>
      one(() => w.decideConsent(requireCaseId(r.caseId), r.consentId, r.granted, r.conditions)),
    ),
    listApprovals: guarded(async (r) => {
      if (r.limit > 500)
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'limit must be at most 500', {
          field: 'limit',
          rule: 'max',
        });
      return requireApprovals().list({
        all: r.all,
        ...(r.caseId ? { caseId: r.caseId } : {}),
        limit: r.limit || 100,
        ...(r.cursor ? { cursor: r.cursor } : {}),
      });
    }),
    approveStep: guarded(async (r) => approvalResponse(await requireApprovals().approve(r.approvalId, r.note))),
    rejectStep: guarded(async (r) => approvalResponse(await requireApprovals().reject(r.approvalId, r.reason))),
    getApprovalPolicy: guarded(async () => ({ policy: requireApprovals().policy() })),
    setApprovalPolicy: guarded(async (r) => {
      if (!r.policy)
        throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'policy is required', {
          field: 'policy',
          rule: 'required',
        });
      return { policy: await requireApprovals().setPolicy(r.policy) };
    }),
  };
  server.addService(decodingTolerantly(CasesService), implementation as unknown as UntypedServiceImplementation);
}
