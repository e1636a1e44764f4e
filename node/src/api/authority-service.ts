import type { ServiceRegistrar } from './service-table.js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import {
  AddPeerRequest,
  ApprovalStep,
  type AuditVerification,
  AuthorityService,
  type BackupChunk,
  type CreateBackupRequest,
  ErrorCode,
  MessageDirection,
  MessageKind,
  Notice,
  type MessageSummary,
  type AuthorityServer,
  NodeEvent,
  type PeerCard,
  PeerCardBody,
  RemovePeerRequest,
  SetPeerPolicyRequest,
  type WatchEventsRequest,
  TracenetError,
} from '@tracenet/proto';
import type { Logger } from 'pino';
import type { Journal } from '../audit/audit-log.js';
import { listAuditEntries, storeAuditEntries } from '../audit/audit-query.js';
import { correlationIdProblem } from '../envelope/envelope.js';
import type { Outbox } from '../federation/outbox.js';
import { validateNotice } from '../federation/message-kinds.js';
import { summarisePeer, type PeerRegistry } from '../federation/peers.js';
import type { RosterGuard } from '../keys/roster.js';
import type { AdapterStatus } from '../registry/monitor.js';
import type { NodeIdentity } from '../identity/data-dir.js';
import { padNumber, type Store } from '../store/store.js';
import type { MessageDirection as StoredDirection, StoredMessage } from '../store/repositories.js';
import type { Clock } from '../util/clock.js';
import { outboxOldestAgeSeconds } from '../ops/sources.js';
import { VERSION } from '../version.js';
import type { Approvals } from '../workflow/approvals.js';
import type { PolicyStore } from '../workflow/policy.js';
import { NODE_POLICY_ID } from '../workflow/release.js';
import { type Actor, runAs } from '../access/actor.js';
import {
  admit,
  type AuthorityCredentials,
  decodingTolerantly,
  guardedUnary,
  requireDecoded,
  toServiceError,
} from './grpc-handlers.js';

/** What the Authority API needs from the node. */
export interface AuthorityDeps {
  readonly identity: NodeIdentity;
  readonly peers: PeerRegistry;
  readonly outbox: Outbox;
  readonly policies: PolicyStore;
  readonly journal: Journal;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** What calls are checked with: the node's access control, or one token (a service served alone). */
  readonly token: AuthorityCredentials;
  readonly card: () => import('@tracenet/proto').PeerCard;
  readonly federationAddress: () => string;
  /** The roster this node enforces (docs/protocol.md 15.4). */
  readonly roster: RosterGuard;
  /** Rotates the node's keys (15.2); `graceMs` 0 uses `keys.rotationGraceMs`. */
  readonly rotateKeys: (
    graceMs: number,
  ) => Promise<{ previousKeyId: string; keyId: string; graceUntilMs: number; card: PeerCard; announcedTo: string[] }>;
  /** Revokes the node's keys and replaces them (15.3). */
  readonly revokeKeys: (
    reason: string,
  ) => Promise<{ revokedKeyId: string; keyId: string; card: PeerCard; announcedTo: string[] }>;
  /** Verifies the audit log (8.6); damage it finds also turns the node's health NOT_SERVING. */
  readonly verifyAudit: () => Promise<AuditVerification>;
  /** The bytes of a backup file of the node (7.5), in order; see `ops/backup.ts`. */
  readonly createBackup: (includeKeys: boolean) => AsyncIterable<Buffer>;
  /** The registry adapters as the node last saw them (`Registry.monitor`), for `GetNodeInfo`. */
  readonly registry?: () => readonly AdapterStatus[];
  /** Four-eyes approval (docs/protocol.md 12.12): policy and peer changes may wait for a supervisor. */
  readonly approvals?: Approvals;
}

/** The participant id a card states, read without checking it ('' when it does not decode). */
function cardParticipant(card: PeerCard): string {
  try {
    return PeerCardBody.decode(card.body).participantId;
  } catch {
    return '';
  }
}

function directionOf(direction: MessageDirection): StoredDirection {
  switch (direction) {
    case MessageDirection.MESSAGE_DIRECTION_INBOX:
      return 'inbox';
    case MessageDirection.MESSAGE_DIRECTION_OUTBOX:
      return 'outbox';
    case MessageDirection.MESSAGE_DIRECTION_SENT:
      return 'sent';
    case MessageDirection.MESSAGE_DIRECTION_FAILED:
      return 'failed';
    default:
      throw new TracenetError(
        ErrorCode.ERROR_CODE_MISSING_FIELD,
        'direction is required (inbox, outbox, sent or failed)',
        { field: 'direction', rule: 'required' },
      );
  }
}

function summarise(message: StoredMessage): MessageSummary {
  switch (message.direction) {
    case 'inbox': {
      const v = message.record;
      return {
        messageId: v.messageId,
        peer: v.sender,
        kind: v.kind,
        correlationId: v.correlationId,
        createdAtMs: v.createdAtMs,
        atMs: v.receivedAtMs,
        attempts: 0,
        lastError: '',
      };
    }
    case 'outbox': {
      const v = message.record;
      return {
        messageId: v.messageId,
        peer: v.recipient,
        kind: v.kind,
        correlationId: v.correlationId,
        createdAtMs: v.createdAtMs,
        atMs: v.createdAtMs,
        attempts: v.attempts,
        lastError: v.lastError,
      };
    }
    case 'sent': {
      const v = message.record;
      return {
        messageId: v.messageId,
        peer: v.recipient,
        kind: v.kind,
        correlationId: v.correlationId,
        createdAtMs: v.createdAtMs,
        atMs: v.deliveredAtMs,
        attempts: v.attempts,
        lastError: '',
      };
    }
    case 'failed': {
      const v = message.record;
      return {
        messageId: v.messageId,
        peer: v.recipient,
        kind: v.kind,
        correlationId: v.correlationId,
        createdAtMs: v.createdAtMs,
        atMs: v.failedAtMs,
        attempts: v.attempts,
        lastError: v.lastError,
      };
    }
  }
}

/**
 * Registers the Authority service: the node's own officers and systems use it. Every call needs
 * the bearer token kept in `<data>/keys/authority.token`.
 */
export function addAuthorityService(server: ServiceRegistrar, deps: AuthorityDeps): void {
  const logger = deps.logger.child({ component: 'authority-api' });
  const guarded = guardedUnary(logger, deps.token);

  /**
   * Queues a policy or peer change when the approval policy holds it (12.12): the approval, or
   * undefined to carry the change out now (also when an approval is carrying it out).
   */
  const held = (step: ApprovalStep, participantId: string, summary: string, input: unknown) =>
    deps.approvals?.hold({
      step,
      caseId: '',
      participantId,
      summary,
      reasons: deps.approvals.policy().policyChanges ? ['approval policy: policy and peer changes'] : [],
      input: JSON.stringify(input),
    });
  const addPeer = async (request: AddPeerRequest) => {
    if (!request.card)
      throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'card is required', {
        field: 'card',
        rule: 'required',
      });
    const participant = cardParticipant(request.card);
    const pending = await held(
      ApprovalStep.APPROVAL_STEP_ADD_PEER,
      participant,
      `pin the card of ${participant || 'a participant'}${request.replaceKeys ? ' (replacing its keys)' : ''}`,
      AddPeerRequest.toJSON(request),
    );
    if (pending) return { peer: undefined, replaced: false, pendingApproval: pending };
    const result = await deps.peers.pin(request.card, deps.clock.now(), {
      replaceKeys: request.replaceKeys ?? false,
    });
    return { peer: summarisePeer(result.peer), replaced: result.replaced, pendingApproval: undefined };
  };
  const removePeer = async (request: RemovePeerRequest) => {
    if (request.participantId === '')
      throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'participant_id is required', {
        field: 'participant_id',
        rule: 'required',
      });
    if (!deps.peers.get(request.participantId))
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${request.participantId} is not a pinned peer`, {
        field: 'participant_id',
        rule: 'pinned_peer',
      });
    const pending = await held(
      ApprovalStep.APPROVAL_STEP_REMOVE_PEER,
      request.participantId,
      `remove the peer ${request.participantId}`,
      RemovePeerRequest.toJSON(request),
    );
    if (pending) return { peer: undefined, queuedMessages: 0, pendingApproval: pending };
    const { peer, queued } = await deps.peers.remove(request.participantId, deps.clock.now());
    return { peer: summarisePeer(peer), queuedMessages: queued, pendingApproval: undefined };
  };
  const setPeerPolicy = async (request: SetPeerPolicyRequest) => {
    const policy = request.policy;
    if (!policy)
      throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'policy is required', {
        field: 'policy',
        rule: 'required',
      });
    // "*" is the node-wide policy of release rules (docs/protocol.md 12.11), not a peer.
    if (policy.participantId !== NODE_POLICY_ID && !deps.peers.get(policy.participantId)) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_NOT_FOUND,
        `${policy.participantId || 'participant_id'} is not a pinned peer`,
        { field: 'policy.participant_id', rule: 'pinned_peer' },
      );
    }
    deps.policies.check(policy);
    const pending = await held(
      ApprovalStep.APPROVAL_STEP_PEER_POLICY,
      policy.participantId,
      `set the policy of ${policy.participantId}`,
      SetPeerPolicyRequest.toJSON(request),
    );
    if (pending) return { policy: deps.policies.get(policy.participantId), pendingApproval: pending };
    return { policy: await deps.policies.set(policy), pendingApproval: undefined };
  };
  deps.approvals?.register(ApprovalStep.APPROVAL_STEP_ADD_PEER, async (a) => {
    await addPeer(AddPeerRequest.fromJSON(JSON.parse(a.input)));
    return undefined;
  });
  deps.approvals?.register(ApprovalStep.APPROVAL_STEP_REMOVE_PEER, async (a) => {
    await removePeer(RemovePeerRequest.fromJSON(JSON.parse(a.input)));
    return undefined;
  });
  deps.approvals?.register(ApprovalStep.APPROVAL_STEP_PEER_POLICY, async (a) => {
    await setPeerPolicy(SetPeerPolicyRequest.fromJSON(JSON.parse(a.input)));
    return undefined;
  });

  const implementation: AuthorityServer = {
    getNodeInfo: guarded(async () => ({
      participantId: deps.identity.participantId,
      keyId: deps.identity.keyId,
      card: deps.card(),
      federationAddress: deps.federationAddress(),
      softwareVersion: VERSION,
      registry: (deps.registry?.() ?? []).map((a) => ({
        kind: a.kind,
        up: a.up === true,
        sinceMs: a.sinceMs,
        lastError: a.lastError,
        lastErrorAtMs: a.lastErrorAtMs,
        latencyMs: a.latencyMs,
        checkedAtMs: a.checkedAtMs,
      })),
    })),
    addPeer: guarded(addPeer),
    listPeers: guarded(async () => ({ peers: deps.peers.list().map(summarisePeer) })),
    removePeer: guarded(removePeer),
    sendNotice: guarded(async (request) => {
      if (request.recipient === '')
        throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'recipient is required', {
          field: 'recipient',
          rule: 'required',
        });
      const correlation = correlationIdProblem(request.correlationId);
      if (correlation)
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, correlation.message, {
          field: 'correlation_id',
          rule: correlation.rule,
        });
      const notice: Notice = { subject: request.subject, text: request.text };
      try {
        validateNotice(notice);
      } catch (error) {
        const failure = TracenetError.from(error);
        throw new TracenetError(failure.code, failure.message.replace('body.', ''), {
          field: failure.field.replace('body.', ''),
          rule: failure.rule,
        });
      }
      const messageId = await deps.outbox.enqueue({
        recipient: request.recipient,
        kind: MessageKind.MESSAGE_KIND_NOTICE,
        body: Notice.encode(notice).finish(),
        ...(request.correlationId ? { correlationId: request.correlationId } : {}),
      });
      return { messageId };
    }),
    listMessages: guarded(async (request) => {
      const direction = directionOf(request.direction);
      const limit = request.limit === 0 ? 100 : request.limit;
      if (limit > 1000)
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'limit must be at most 1000', {
          field: 'limit',
          rule: 'max',
        });
      const page = await deps.store.messagePage(direction, { limit, token: request.cursor });
      return { messages: page.items.map(summarise), nextCursor: page.next };
    }),
    getDeliveryStats: guarded(async () => {
      return {
        inbox: await deps.store.messages.inbox.count(),
        outbox: await deps.store.outbox.queue.count(),
        sent: await deps.store.outbox.sent.count(),
        failed: await deps.store.outbox.failed.count(),
        oldestOutboxAgeMs: Math.round((await outboxOldestAgeSeconds(deps.store, deps.clock)) * 1000),
      };
    }),
    verifyAudit: guarded(async () => ({ result: await deps.verifyAudit() })),
    setPeerPolicy: guarded(setPeerPolicy),
    getPeerPolicy: guarded(async (request) => ({ policy: deps.policies.get(request.participantId) })),
    rotateKeys: guarded(async (request) => {
      if (request.graceMs < 0)
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'grace_ms must not be negative', {
          field: 'grace_ms',
          rule: 'non_negative',
        });
      return deps.rotateKeys(request.graceMs);
    }),
    revokeKeys: guarded(async (request) => deps.revokeKeys(request.reason)),
    loadRoster: guarded(async (request) => {
      if (!request.roster)
        throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'roster is required', {
          field: 'roster',
          rule: 'required',
        });
      return { roster: await deps.roster.install(request.roster) };
    }),
    getRoster: guarded(async () => {
      return { configured: deps.roster.configured, roster: deps.roster.summary() };
    }),
    watchEvents: (call: ServerWritableStream<WatchEventsRequest, NodeEvent>) => watchEvents(call, deps, logger),
    createBackup: (call: ServerWritableStream<CreateBackupRequest, BackupChunk>) => streamBackup(call, deps, logger),
    listAudit: guarded(async (request) => listAuditEntries(storeAuditEntries(deps.store), request)),
  };
  server.addService(
    decodingTolerantly(AuthorityService),
    implementation as unknown as import('@grpc/grpc-js').UntypedServiceImplementation,
  );
}

/** Ends a server stream with a Tracenet status (see {@link watchEvents} for why `error` and not `destroy()`). */
function failStream(call: ServerWritableStream<unknown, unknown>, error: unknown, logger: Logger): void {
  const status = toServiceError(error, logger);
  call.emit('error', Object.assign(new Error(status.details), status));
}

/**
 * Streams a backup (7.5) chunk by chunk, waiting for the caller to read each one before taking the
 * next (the store's snapshot stays open until the last chunk is sent). A caller that cancels ends
 * the backup and releases the snapshot.
 */
function streamBackup(
  call: ServerWritableStream<CreateBackupRequest, BackupChunk>,
  deps: AuthorityDeps,
  logger: Logger,
): void {
  let actor: Actor;
  try {
    actor = admit(deps.token, call.metadata, call.getPath());
    requireDecoded(call.request);
  } catch (error) {
    failStream(call, error, logger);
    return;
  }
  const includeKeys = call.request.includeKeys;
  void runAs(actor, async () => {
    let bytes = 0;
    try {
      for await (const chunk of deps.createBackup(includeKeys)) {
        if (call.cancelled) return;
        bytes += chunk.length;
        if (!call.write({ data: chunk })) await drainedOrGone(call);
      }
      call.end();
      logger.info({ bytes, includeKeys }, 'backup streamed');
    } catch (error) {
      logger.error({ err: error }, 'backup failed');
      failStream(call, error, logger);
    }
  });
}

/** Resolves when the caller has read what was written, or has gone (then the loop sees `cancelled`). */
function drainedOrGone(call: ServerWritableStream<CreateBackupRequest, BackupChunk>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const name of ['drain', 'cancelled', 'close', 'error'] as const) call.off(name, done);
      resolve();
    };
    for (const name of ['drain', 'cancelled', 'close', 'error'] as const) call.once(name, done);
  });
}

/**
 * Streams stored events after the requested sequence, then live ones. The live subscription
 * starts before the replay, and events already replayed are skipped, so none is lost or repeated.
 * A failure ends the stream with a Tracenet status: grpc-js sends the status of a server stream
 * only when the stream ends after an `error` event (`destroy()` would leave the caller waiting).
 */
function watchEvents(
  call: ServerWritableStream<WatchEventsRequest, NodeEvent>,
  deps: AuthorityDeps,
  logger: Logger,
): void {
  const fail = (error: unknown) => {
    const status = toServiceError(error, logger);
    call.emit('error', Object.assign(new Error(status.details), status));
  };
  try {
    admit(deps.token, call.metadata, call.getPath());
    requireDecoded(call.request);
  } catch (error) {
    fail(error);
    return;
  }
  // Live only: what is committed after the call, whatever after_sequence says.
  let last = call.request.liveOnly ? deps.journal.lastEventSequence : call.request.afterSequence;
  let replaying = true;
  const buffered: NodeEvent[] = [];
  const send = (event: NodeEvent) => {
    if (event.sequence <= last) return;
    last = event.sequence;
    call.write(event);
  };
  const live = (event: NodeEvent) => (replaying ? buffered.push(event) : send(event));
  deps.journal.on('event', live);
  const end = () => deps.journal.off('event', live);
  call.on('cancelled', end);
  call.on('close', end);
  call.on('error', end);
  if (call.request.liveOnly) {
    replaying = false;
    return;
  }
  void (async () => {
    try {
      for await (const event of deps.store.audit.events.values({ gt: padNumber(last) })) {
        if (call.cancelled) return;
        send(event);
      }
      replaying = false;
      for (const event of buffered.splice(0)) send(event);
    } catch (error) {
      logger.error({ err: error }, 'event replay failed');
      end();
      fail(error);
    }
  })();
}
