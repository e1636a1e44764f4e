import { EventEmitter } from 'node:events';
import { NodeEvent } from '@tracenet/proto';
import type { Logger } from 'pino';
import { type Actor, currentActor, NODE_ACTOR, runAs } from '../access/actor.js';
import { signDetached } from '../crypto/ed25519.js';
import { blake2b256, domain, sodium } from '../crypto/sodium.js';
import type { Clock } from '../util/clock.js';
import { padNumber, type Operation, type Store } from '../store/store.js';
import { SignedHeadWriter, type SignedHeadFile, type StoredCheckpoint, type StoredSignedHead } from './head-file.js';

export type { StoredCheckpoint, StoredSignedHead } from './head-file.js';

const ENTRY_DOMAIN = domain('tracenet.v1/audit-entry');
const CHECKPOINT_DOMAIN = domain('tracenet.v1/audit-checkpoint');
const HEAD_DOMAIN = domain('tracenet.v1/audit-head');
/** Key of the signed head (docs/protocol.md 8.4) in the `meta` sublevel. */
/** `prev` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Kinds of audit entries. */
export type AuditType =
  | 'node.initialised'
  | 'node.started'
  | 'node.stopped'
  | 'peer.pinned'
  | 'message.queued'
  | 'message.delivered'
  | 'message.failed'
  | 'message.received'
  | 'message.duplicate'
  | 'message.rejected'
  | 'record.put'
  | 'record.deleted'
  | 'record.destroyed'
  | 'recirculation.flagged'
  | 'records.imported'
  | 'case.created'
  | 'case.changed'
  | 'case.overdue'
  | 'case.purged'
  | 'case.disclosed'
  | 'consent.requested'
  | 'consent.decided'
  | 'disclosure.notified'
  | 'reexport.flagged'
  | 'reexport.notified'
  | 'reexport.received'
  | 'policy.set'
  | 'approval.drafted'
  | 'approval.approved'
  | 'approval.rejected'
  | 'approval_policy.set'
  | 'record.reported'
  | 'record.report_cleared'
  | 'aliases.loaded'
  | 'lookup.query'
  | 'lookup.answer'
  | 'lookup.hit'
  | 'lookup.refused'
  | 'audit.broken'
  | 'audit.damage_accepted'
  | 'keys.rotated'
  | 'keys.revoked'
  | 'keys.erased'
  | 'peer.keys_revoked'
  | 'peer.rotation_held'
  | 'peer.removed'
  | 'roster.loaded'
  | 'refusals.counted'
  | 'backup.created'
  | 'messages.resent'
  | 'officer.added'
  | 'officer.roles_set'
  | 'officer.language_set'
  | 'officer.disabled'
  | 'officer.enabled'
  | 'officer.password_reset'
  | 'officer.signed_in'
  | 'officer.sign_in_failed'
  | 'officer.locked'
  | 'officer.signed_out'
  | 'client.added'
  | 'client.revoked'
  | 'access.setup_ended'
  | 'statistics.export';

/**
 * One thing to record. Fields are metadata only (ids, kinds, digests, codes): never message
 * content, never key material.
 */
export interface AuditEvent {
  readonly type: AuditType;
  readonly fields: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Who an entry names (docs/protocol.md 8.1): the `actor` member the journal stamps on every entry
 * from {@link currentActor} at the moment of the write — the officer or client and the session (or
 * API key id) of a local action, `bootstrap` for the bootstrap token, `node` for the node's own
 * steps (timers, automatic answers, received messages: their `peer` field names the sender). Ids
 * only, never a token. Inside the hashed line, so the verification covers it.
 */
export interface AuditActor {
  readonly kind: Actor['kind'];
  /** The officer's or client's id; '' for the node and the bootstrap token. */
  readonly id: string;
  /** The session id or API key id; '' for the node. */
  readonly session: string;
}

/** The kinds an entry's `actor` may name. */
export const AUDIT_ACTOR_KINDS: readonly AuditActor['kind'][] = ['officer', 'client', 'bootstrap', 'node'];

/** The `actor` member of an entry written by `actor`. */
export function auditActorOf(actor: Actor): AuditActor {
  return { kind: actor.kind, id: actor.id, session: actor.session };
}

/**
 * The actor an entry's parsed line names; undefined when the line has no `actor` member — an entry
 * written before accounts existed (store layout 1, before issue 17), which stays valid — or one
 * that is not an actor.
 *
 * @example
 * ```ts
 * const actor = actorOfLine(JSON.parse(entry.line));
 * console.log(actor ? `${actor.kind} ${actor.id}` : 'before accounts');
 * ```
 */
export function actorOfLine(parsed: unknown): AuditActor | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const actor: unknown = (parsed as { actor?: unknown }).actor;
  if (typeof actor !== 'object' || actor === null) return undefined;
  const { kind, id, session } = actor as { kind?: unknown; id?: unknown; session?: unknown };
  if (typeof kind !== 'string' || !(AUDIT_ACTOR_KINDS as readonly string[]).includes(kind)) return undefined;
  if (typeof id !== 'string' || typeof session !== 'string') return undefined;
  return { kind: kind as AuditActor['kind'], id, session };
}

/** How an entry is stored: the canonical JSON line and its chained hash. */
export interface StoredAuditEntry {
  readonly line: string;
  readonly hash: string;
}

/** Hash of an entry: BLAKE2b-256(domain || prev hash bytes || UTF-8 line). */
export function entryHash(prev: string, line: string): string {
  return blake2b256(ENTRY_DOMAIN, Buffer.from(prev, 'hex'), Buffer.from(line, 'utf8')).toString('hex');
}

/** Bytes a checkpoint signature covers: domain || u64be(seq) || hash bytes || u64be(at). */
export function checkpointSignedBytes(seq: number, hash: string, at: number): Buffer {
  const numbers = Buffer.alloc(16);
  numbers.writeBigUInt64BE(BigInt(seq), 0);
  numbers.writeBigUInt64BE(BigInt(at), 8);
  return Buffer.concat([CHECKPOINT_DOMAIN, numbers.subarray(0, 8), Buffer.from(hash, 'hex'), numbers.subarray(8)]);
}

/** Bytes a signed head's signature covers: the checkpoint layout under the domain `tracenet.v1/audit-head`. */
export function headSignedBytes(seq: number, hash: string, at: number): Buffer {
  const bytes = checkpointSignedBytes(seq, hash, at);
  return Buffer.concat([HEAD_DOMAIN, bytes.subarray(CHECKPOINT_DOMAIN.length)]);
}

/** Whether `head` is a signed head of `seq` and `hash` under `signingPublicKey`. */
export function signedHeadVerifies(head: Partial<StoredSignedHead>, signingPublicKey: Uint8Array): boolean {
  if (
    typeof head.seq !== 'number' ||
    typeof head.hash !== 'string' ||
    typeof head.at !== 'number' ||
    typeof head.signature !== 'string'
  )
    return false;
  if (
    !Number.isSafeInteger(head.seq) ||
    head.seq < 0 ||
    !/^[0-9a-f]{64}$/.test(head.hash) ||
    !Number.isSafeInteger(head.at) ||
    head.at < 0
  )
    return false;
  const s = sodium();
  const signature = Buffer.from(head.signature, 'base64');
  return (
    signature.length === s.crypto_sign_BYTES &&
    s.crypto_sign_verify_detached(signature, headSignedBytes(head.seq, head.hash, head.at), signingPublicKey)
  );
}

interface Head {
  readonly seq: number;
  readonly hash: string;
}

/** A node event to publish; the journal assigns its sequence number. */
export type NodeEventInput = Omit<NodeEvent, 'sequence' | 'atMs'>;

interface PendingWrite {
  readonly operations: Operation[];
  readonly events: readonly AuditEvent[];
  /** Who asked for the write: read when it was asked, since the group commit runs in another context. */
  readonly actor: AuditActor;
  readonly nodeEvents: readonly NodeEventInput[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** What the journal needs. */
export interface JournalOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly keyId: string;
  readonly signingSecretKey: Uint8Array;
  /** Write a signed checkpoint at least every this many entries. */
  readonly checkpointEvery: number;
  /**
   * Where the signed head is also kept outside the store (`<data>/audit-head.json`, 8.4): rewritten
   * after every commit that adds entries, before the writers are told it is done.
   */
  readonly headFile?: SignedHeadFile;
}

/**
 * The only writer of the store. Every write carries its audit entries, and both land in one
 * LevelDB batch: a message is stored with its audit entry or not at all. Concurrent writes are
 * grouped into one batch (group commit), which also keeps the hash chain in order.
 */
export class Journal extends EventEmitter<{ event: [NodeEvent] }> {
  readonly #options: JournalOptions;
  readonly #logger: Logger;
  readonly #headFile: SignedHeadWriter | undefined;
  #head: Head = { seq: 0, hash: GENESIS_HASH };
  #checkpointed = 0;
  #eventSeq = 0;
  #pending: PendingWrite[] = [];
  #draining: Promise<void> | undefined;

  constructor(options: JournalOptions) {
    super();
    this.#options = options;
    this.#logger = options.logger.child({ component: 'journal' });
    this.#headFile = options.headFile && new SignedHeadWriter({ ...options.headFile, keepOpen: true });
  }

  /**
   * Waits for the writes under way and releases the file of the signed head, which the journal
   * keeps open between group commits. Call when the store closes; a later write opens it again.
   */
  async close(): Promise<void> {
    await this.#draining;
    this.#headFile?.close();
  }

  /**
   * Loads the chain head and the last checkpoint. Call once before writing, on a store whose audit
   * log was checked before it was opened (`checkStoredAudit`, docs/protocol.md 8.6): the journal
   * signs over whatever it finds.
   */
  async init(): Promise<void> {
    const { evidence, checkpointEvidence, events } = this.#options.store.audit;
    // Read as stored, not checked: a damaged last entry was reported by the check before the open.
    for await (const value of evidence.values({ reverse: true, limit: 1 })) {
      const entry: { line?: unknown; hash?: unknown } = typeof value === 'object' && value !== null ? value : {};
      let seq: unknown = 0;
      try {
        seq = typeof entry.line === 'string' ? (JSON.parse(entry.line) as { seq?: unknown }).seq : 0;
      } catch {
        // A last entry that is not JSON: the chain continues after it and verification reports it.
      }
      this.#head = { seq: typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : 0, hash: String(entry.hash) };
    }
    // A checkpoint beyond the head names entries that are gone (damage accepted at start): not the last one.
    for await (const value of checkpointEvidence.values({ reverse: true, limit: 1, lte: padNumber(this.#head.seq) })) {
      const seq: unknown = typeof value === 'object' && value !== null ? (value as { seq?: unknown }).seq : undefined;
      this.#checkpointed = typeof seq === 'number' ? seq : 0;
    }
    for await (const key of events.keys({ reverse: true, limit: 1 })) this.#eventSeq = Number(key);
  }

  /** Sequence number of the last node event written. */
  get lastEventSequence(): number {
    return this.#eventSeq;
  }

  /** Sequence number and hash of the last entry written. */
  get head(): Head {
    return this.#head;
  }

  /**
   * Writes `operations`, appends `events` to the audit chain and `nodeEvents` to the event
   * stream, atomically. Resolves when all are on disk; rejects (STORAGE_UNAVAILABLE) when none
   * is. Node events are emitted (`event`) only after they are stored, in sequence order. Every
   * entry names the actor of the caller ({@link currentActor}, read now: `runAs(officer, …)` around
   * the call makes the entries name the officer; outside any, they name the node).
   */
  write(
    operations: Operation[],
    events: readonly AuditEvent[],
    nodeEvents: readonly NodeEventInput[] = [],
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const actor = auditActorOf(currentActor());
      this.#pending.push({ operations, events, actor, nodeEvents, resolve, reject });
      // The drain is the journal's own work: what it sets off (event subscribers) is not the caller's.
      this.#draining ??= runAs(NODE_ACTOR, () => this.#drainSoon());
    });
  }

  /**
   * Starts the drain at the end of this turn of the event loop (`setImmediate`: no delay, no
   * timer), so that the writes of every request that arrived in this turn join the first one's
   * group. Started at once, the first write went alone and the others queued behind its commit:
   * at 16 concurrent deliveries the groups alternated between 1 and 15 writes (two commits, each
   * with its signature and two flushes, per 16 requests).
   */
  async #drainSoon(): Promise<void> {
    await new Promise<void>((resolve) => {
      setImmediate(resolve);
    });
    await this.#drain();
  }

  /** Writes a signed checkpoint of the current head if entries were added since the last one. */
  async checkpoint(): Promise<void> {
    await this.#draining;
    if (this.#head.seq === this.#checkpointed) return;
    const head = this.#head;
    await this.#options.store.batch([this.#checkpointOperation(head)]);
    this.#checkpointed = head.seq;
  }

  async #drain(): Promise<void> {
    // `#draining` is cleared (below) in the job that resolved the last writers, before any of them
    // resumes: a write issued as soon as its predecessor resolved starts a new drain instead of
    // joining this finished one and waiting forever.
    while (this.#pending.length > 0) {
      const group = this.#pending.splice(0, 512);
      const batch: Operation[] = [];
      let head = this.#head;
      let eventSeq = this.#eventSeq;
      const published: NodeEvent[] = [];
      const at = this.#options.clock.now();
      for (const item of group) {
        batch.push(...item.operations);
        for (const input of item.nodeEvents) {
          eventSeq += 1;
          const event: NodeEvent = { ...input, sequence: eventSeq, atMs: at };
          published.push(event);
          batch.push(this.#options.store.audit.events.put(padNumber(eventSeq), event));
        }
        for (const event of item.events) {
          const seq = head.seq + 1;
          // The actor and the chain fields come last, so that no event field can stand in for them.
          const line = JSON.stringify({
            ...event.fields,
            actor: item.actor,
            seq,
            at,
            type: event.type,
            prev: head.hash,
          });
          const hash = entryHash(head.hash, line);
          batch.push(this.#options.store.audit.entries.put(padNumber(seq), { line, hash }));
          head = { seq, hash };
        }
      }
      const checkpoint = head.seq - this.#checkpointed >= this.#options.checkpointEvery;
      // One signature per group commit: the log's end is always signed (docs/adr/0008-signed-audit-head.md).
      const signed = head.seq !== this.#head.seq ? this.#signHead(head, at) : undefined;
      try {
        if (checkpoint) batch.push(this.#checkpointOperation(head));
        if (signed) batch.push(this.#options.store.audit.signedHead.put(signed));
        await this.#options.store.batch(batch);
      } catch (error) {
        this.#logger.error(
          { err: error, writes: group.length },
          'store write failed; nothing of these writes was stored',
        );
        for (const item of group) item.reject(error);
        continue;
      }
      this.#head = head;
      this.#eventSeq = eventSeq;
      if (checkpoint) this.#checkpointed = head.seq;
      if (signed) await this.#writeHeadFile(signed);
      for (const item of group) item.resolve();
      for (const event of published) {
        try {
          this.emit('event', event);
        } catch (error) {
          // A subscriber's bug must not stall the journal or disturb the writers (already resolved).
          this.#logger.error({ err: error, sequence: event.sequence }, 'an event subscriber failed');
        }
      }
    }
    this.#draining = undefined;
  }

  #signHead(head: Head, at: number): StoredSignedHead {
    const signature = signDetached(headSignedBytes(head.seq, head.hash, at), this.#options.signingSecretKey);
    return {
      seq: head.seq,
      hash: head.hash,
      at,
      keyId: this.#options.keyId,
      signature: signature.toString('base64'),
    };
  }

  /**
   * The same signed head, outside the store. After the store's batch: a crash in between leaves the
   * file one commit behind the log, which verification allows; the reverse would be a false alarm.
   * A file that cannot be written does not undo the commit (it is stored): the next commit writes
   * the file again, and until then it names an earlier entry, which verification also allows.
   */
  async #writeHeadFile(head: StoredSignedHead): Promise<void> {
    if (!this.#headFile) return;
    try {
      await this.#headFile.write(head);
    } catch (error) {
      this.#logger.error(
        { err: error, path: this.#options.headFile?.path, seq: head.seq },
        'the signed audit head could not be written outside the store',
      );
    }
  }

  #checkpointOperation(head: Head): Operation {
    const at = this.#options.clock.now();
    const signature = signDetached(checkpointSignedBytes(head.seq, head.hash, at), this.#options.signingSecretKey);
    const value: StoredCheckpoint = {
      seq: head.seq,
      hash: head.hash,
      at,
      keyId: this.#options.keyId,
      signature: signature.toString('base64'),
    };
    return this.#options.store.audit.checkpoints.put(padNumber(head.seq), value);
  }
}
