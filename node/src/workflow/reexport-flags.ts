import {
  type Case,
  CaseRole,
  ErrorCode,
  MessageKind,
  NodeEventType,
  type ReexportFlag,
  ReexportNotice,
  TracenetError,
} from '@tracenet/proto';
import type { AuditEvent } from '../audit/audit-log.js';
import type { CommitInbound, InboundMessage } from '../ports/inbound.js';
import type { Store } from '../store/store.js';
import { encodeDisclosureBody } from '../messages/bodies.js';
import { decodeReexportNotice, FLAG_ID, validateReexportNotice } from '../messages/reexport-notice.js';
import { disclosureBasis, receivedRestrictions } from '../messages/restrictions.js';
import { type CaseBook, caseEvent, newId, stepBy, traceKey, type WorkflowDeps } from './case-book.js';
import { findReexports, flagKey, heldAnswer } from './reexport.js';

const K = MessageKind;
const raisedKey = (flagId: string) => `r\u0000${flagId}`;
const receivedKey = (sender: string, flagId: string) => `x\u0000${sender}\u0000${flagId}`;

/** One line for a flag: "BEL's export to KEN under EUC-1 re-exported to UGA". */
export function describeFlag(f: ReexportFlag): string {
  const what = f.kind === 'reexported' ? `re-exported to ${f.laterState}` : `found in ${f.laterState}`;
  const ref = f.undertaking?.certificateReference ? ` under ${f.undertaking.certificateReference}` : '';
  return `${f.exporter}'s export to ${f.undertakingState}${ref} ${what}`;
}

/**
 * The re-export flags a node keeps (docs/protocol.md 18): those it raised in its chains, and those
 * peers sent it as the exporter, each kind newest first.
 *
 * @example
 * ```ts
 * const { raised, received } = await new ReexportFlagRepository(store).all();
 * reexportReport(raised, received, { fromDate: '2026-01-01', toDate: '2026-12-31' });
 * ```
 */
export class ReexportFlagRepository {
  constructor(private readonly store: Store) {}

  /** The flags this node raised, newest first. */
  async raised(): Promise<ReexportFlag[]> {
    const all = await this.store.reexports.flags.all({ gte: 'r\u0000', lt: 'r\u0001' });
    return all.sort((a, b) => b.raisedAtMs - a.raisedAtMs);
  }

  /** The flags peers notified this node of, newest first (by the time received, `notified_at_ms`). */
  async received(): Promise<ReexportFlag[]> {
    const all = await this.store.reexports.flags.all({ gte: 'x\u0000', lt: 'x\u0001' });
    return all.sort((a, b) => b.notifiedAtMs - a.notifiedAtMs);
  }

  async all(): Promise<{ raised: ReexportFlag[]; received: ReexportFlag[] }> {
    return { raised: await this.raised(), received: await this.received() };
  }
}

/**
 * Re-export flags in the workflow (docs/protocol.md 18.3–18.5): raised when an answer comes into
 * a chain, notified to the exporter under the answers' use restrictions, and received from peers.
 */
export class ReexportFlags {
  readonly repository: ReexportFlagRepository;

  constructor(
    private readonly deps: WorkflowDeps,
    private readonly book: CaseBook,
  ) {
    this.repository = new ReexportFlagRepository(deps.store);
  }

  /**
   * The commit of an inbound message that gives requester case `c` an answer (kind 6, or kind 8
   * with a partial answer), extended with the new flags of its chain: they are added to `c`, to
   * the flags collection, the audit log (`reexport.flagged`) and the events
   * (`NODE_EVENT_TYPE_REEXPORT_FLAGGED`), in the same batch. Call before the case is put. Any
   * failure of the analysis leaves the commit as it was: an answer is never refused for it.
   */
  async withFlags(c: Case, kind: MessageKind, commit: CommitInbound): Promise<CommitInbound> {
    if (c.role !== CaseRole.CASE_ROLE_REQUESTER || !heldAnswer(c)) return commit;
    if (kind !== K.MESSAGE_KIND_TRACE_ANSWER && kind !== K.MESSAGE_KIND_TRACE_RESTRICTION) return commit;
    try {
      const { chainId, cases: chain } = await this.book.chainOf(c);
      const known = new Set(chain.flatMap((x) => x.reexportFlags.map(flagKey)));
      const fresh = findReexports(this.deps.selfId, chainId, chain).filter((f) => !known.has(flagKey(f)));
      if (fresh.length === 0) return commit;
      const now = this.deps.clock.now();
      const flags: ReexportFlag[] = fresh.map((f) => ({
        ...f,
        flagId: `rx_${newId()}`,
        raisedBy: this.deps.selfId,
        raisedAtMs: now,
        notifiedAtMs: 0,
      }));
      c.reexportFlags.push(...flags);
      for (const f of flags)
        c.timeline.push({
          atMs: now,
          fromState: c.state,
          toState: c.state,
          summary: `possible unauthorised re-export: ${describeFlag(f)} (${f.flagId})`,
          messageId: '',
          actor: 'local',
          by: '',
        });
      const operations = flags.map((f) => this.deps.store.reexports.flags.put(raisedKey(f.flagId), f));
      const audit: AuditEvent[] = flags.map((f) => ({
        type: 'reexport.flagged',
        fields: {
          caseId: c.caseId,
          chainId,
          flagId: f.flagId,
          kind: f.kind,
          exporter: f.exporter,
          undertakingState: f.undertakingState,
          laterState: f.laterState,
          evidence: f.evidence.length,
        },
      }));
      const events = flags.map((f) =>
        caseEvent(
          NodeEventType.NODE_EVENT_TYPE_REEXPORT_FLAGGED,
          c,
          `possible unauthorised re-export: ${describeFlag(f)}`,
          '',
        ),
      );
      return (o, a, e) => commit([...o, ...operations], [...a, ...audit], [...e, ...events]);
    } catch (error) {
      this.book.logger.warn(
        { caseId: c.caseId, err: error },
        're-export analysis failed; the answer is taken without it',
      );
      return commit;
    }
  }

  /**
   * Notifies the exporter of flag `flagId` of requester case `caseId` (docs/protocol.md 18.4).
   * Every evidence hop from a participant other than the exporter and this node is that
   * participant's information, sent only when its answer's use restrictions list the exporter or
   * it granted consent for the exporter; otherwise DISCLOSURE_NOT_ALLOWED naming the hop
   * (`flag.evidence[i]`, `use_restrictions`) and nothing is written or sent. When allowed, one
   * batch queues the ReexportNotice to the exporter and a DisclosureNotice to each provider,
   * records the disclosures on their cases and sets the flag's `notified_at_ms`.
   */
  async notify(caseId: string, flagId: string): Promise<Case> {
    if (flagId === '')
      throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'flag_id is required', {
        field: 'flag_id',
        rule: 'required',
      });
    if (!FLAG_ID.test(flagId))
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'flag_id is not a flag id', {
        field: 'flag_id',
        rule: 'flag_id',
      });
    const first = await this.book.get(caseId);
    const ids = [
      ...new Set([
        caseId,
        ...(first.reexportFlags.find((f) => f.flagId === flagId)?.evidence ?? []).map((h) => h.caseId),
      ]),
    ]
      .filter((id) => id !== '')
      .sort();
    return this.#lockAll(ids, () => this.#notifyLocked(caseId, flagId));
  }

  async #lockAll<T>(ids: readonly string[], work: () => Promise<T>): Promise<T> {
    const [id, ...rest] = ids;
    if (id === undefined) return work();
    return this.book.locks.run(id, () => this.#lockAll(rest, work));
  }

  async #notifyLocked(caseId: string, flagId: string): Promise<Case> {
    const c = await this.book.get(caseId);
    const flag = c.reexportFlags.find((f) => f.flagId === flagId);
    if (c.role !== CaseRole.CASE_ROLE_REQUESTER || !flag)
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `case ${caseId} has no re-export flag ${flagId}`, {
        field: 'flag_id',
        rule: 'exists',
      });
    if (flag.notifiedAtMs > 0)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_ALREADY_EXISTS,
        `${flag.exporter} was notified of ${flagId} already`,
        {
          field: 'flag_id',
          rule: 'notified_once',
        },
      );
    const exporter = flag.exporter;
    if (!this.deps.isPinned(exporter))
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${exporter} is not a pinned peer`, {
        field: 'flag.exporter',
        rule: 'pinned_peer',
      });
    const { cases } = await this.book.chainOf(c);
    const byId = new Map(cases.map((x) => [x.caseId, x]));
    /** Each provider's case, with the basis of the disclosure to the exporter. */
    const providers = new Map<string, { held: Case; basis: string }>();
    flag.evidence.forEach((hop, i) => {
      if (hop.source === exporter || hop.source === this.deps.selfId) return;
      const held = byId.get(hop.caseId);
      const answer = held && held.peer === hop.source ? heldAnswer(held) : undefined;
      if (!held || !answer)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED,
          `flag.evidence[${i}] is information of ${hop.source} that this node no longer holds (purged or gone)`,
          { field: `flag.evidence[${i}]`, rule: 'answer_held' },
        );
      try {
        const restrictions = receivedRestrictions(answer, held.request?.intendedUse ?? '');
        providers.set(held.caseId, { held, basis: disclosureBasis(restrictions, held.consents, exporter, hop.source) });
      } catch (error) {
        const refused = TracenetError.from(error);
        throw new TracenetError(
          refused.code,
          `flag.evidence[${i}] is information of ${hop.source}: ${refused.message}`,
          { field: `flag.evidence[${i}]`, rule: refused.rule, cause: refused },
        );
      }
    });
    const now = this.deps.clock.now();
    const exporterTraceId =
      cases.find((x) => x.role === CaseRole.CASE_ROLE_REQUESTER && x.peer === exporter)?.traceId ?? '';
    const order = exporterTraceId || flagId;
    const notice = this.deps.outbox.prepare({
      recipient: exporter,
      kind: K.MESSAGE_KIND_REEXPORT_NOTICE,
      body: ReexportNotice.encode({ flagId, exporterTraceId, flag: { ...flag, notifiedAtMs: 0 } }).finish(),
      correlationId: order,
      orderKey: order,
    });
    const prepared = [notice];
    const audit: AuditEvent[] = [];
    const changed = new Map<string, Case>([[c.caseId, c]]);
    for (const { held, basis } of providers.values()) {
      const target = changed.get(held.caseId) ?? held;
      changed.set(target.caseId, target);
      const disclosure = this.deps.outbox.prepare({
        recipient: target.peer,
        kind: K.MESSAGE_KIND_DISCLOSURE_NOTICE,
        body: encodeDisclosureBody({
          kind: K.MESSAGE_KIND_DISCLOSURE_NOTICE,
          traceId: target.traceId,
          body: { traceId: target.traceId, thirdParticipant: exporter, disclosedAtMs: now, basis },
        }),
        correlationId: target.traceId,
        orderKey: target.traceId,
      });
      prepared.push(disclosure);
      target.disclosures.push({ thirdParticipant: exporter, disclosedAtMs: now, basis, messageId: notice.messageId });
      target.timeline.push({
        atMs: now,
        fromState: target.state,
        toState: target.state,
        summary: `disclosed to ${exporter} in re-export notice ${flagId} (${basis}); ${target.peer} notified`,
        messageId: disclosure.messageId,
        actor: 'local',
        by: stepBy('local'),
      });
      target.updatedAtMs = now;
      audit.push({
        type: 'case.disclosed',
        fields: { caseId: target.caseId, traceId: target.traceId, provider: target.peer, third: exporter, basis },
      });
    }
    const stored = c.reexportFlags.find((f) => f.flagId === flagId) as ReexportFlag;
    stored.notifiedAtMs = now;
    c.timeline.push({
      atMs: now,
      fromState: c.state,
      toState: c.state,
      summary: `${exporter} notified of possible unauthorised re-export ${flagId}`,
      messageId: notice.messageId,
      actor: 'local',
      by: stepBy('local'),
    });
    c.updatedAtMs = now;
    audit.push({
      type: 'reexport.notified',
      fields: {
        caseId: c.caseId,
        flagId,
        exporter,
        messageId: notice.messageId,
        providers: [...providers.values()].map((p) => p.held.peer).join(','),
      },
    });
    await this.book.write(
      [c, ...[...changed.values()].filter((x) => x !== c)],
      [...prepared.flatMap((p) => p.operations), this.deps.store.reexports.flags.put(raisedKey(flagId), stored)],
      NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED,
      [...prepared.flatMap((p) => p.audit), ...audit],
    );
    for (const p of prepared) p.schedule();
    return c;
  }

  /**
   * A peer's ReexportNotice (docs/protocol.md 18.5): body rules, then a flag id the sender has not
   * used; stored as received with `raised_by` the sender and `notified_at_ms` the time received,
   * audited (`reexport.received`) and announced (`NODE_EVENT_TYPE_REEXPORT_NOTIFIED`) in the
   * receiver's batch.
   */
  async accept(message: InboundMessage, commit: CommitInbound): Promise<void> {
    const notice = decodeReexportNotice(message.body);
    validateReexportNotice(notice, message.sender, this.deps.selfId);
    const key = receivedKey(message.sender, notice.flagId);
    await this.book.locks.run(key, async () => {
      if ((await this.deps.store.reexports.flags.get(key)) !== undefined)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_ALREADY_EXISTS,
          `${message.sender} sent flag ${notice.flagId} already`,
          { field: 'body.flag_id', rule: 'unique_flag' },
        );
      const now = this.deps.clock.now();
      const flag: ReexportFlag = { ...(notice.flag as ReexportFlag), raisedBy: message.sender, notifiedAtMs: now };
      const own =
        notice.exporterTraceId === ''
          ? undefined
          : await this.deps.store.cases.traced(traceKey(message.sender, notice.exporterTraceId));
      const summary = `${message.sender} notified a possible unauthorised re-export: ${describeFlag(flag)}`;
      await commit(
        [this.deps.store.reexports.flags.put(key, flag)],
        [
          {
            type: 'reexport.received',
            fields: {
              peer: message.sender,
              flagId: flag.flagId,
              kind: flag.kind,
              undertakingState: flag.undertakingState,
              laterState: flag.laterState,
              caseId: own ?? '',
              evidence: flag.evidence.length,
            },
          },
        ],
        [
          {
            type: NodeEventType.NODE_EVENT_TYPE_REEXPORT_NOTIFIED,
            caseId: own ?? '',
            traceId: notice.exporterTraceId,
            peer: message.sender,
            state: 0,
            messageId: message.messageId,
            summary,
          },
        ],
      );
    });
  }

  /** The flags raised and received, as ListReexportFlags gives them. */
  async list(raised: boolean, received: boolean): Promise<{ raised: ReexportFlag[]; received: ReexportFlag[] }> {
    return {
      raised: raised ? await this.repository.raised() : [],
      received: received ? await this.repository.received() : [],
    };
  }
}
