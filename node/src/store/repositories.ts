import { Case, CaseState, HitNotice, NodeEvent, PeerPolicy, ReexportFlag } from '@tracenet/proto';
import { Collection, jsonCodec, protoCodec, type Codec } from './collection.js';
import { array, boolean, either, literal, number, object, optional, string, type Check } from './schema.js';
import { padNumber, type Engine, type Operation, type Snapshot, type SpaceName } from './space.js';

/*
 * The typed repositories of a node's store, one per aggregate (ADR 0011). Each value has a codec
 * that checks it when it is read back; writes are Operations for one atomic batch. Key formats
 * that callers choose (seen-set, inbox, trace index) stay with their callers; keys the store
 * maintains itself (the case indexes) are made here.
 */

/** A JSON text read as it is, for readers that judge damage themselves (audit verification). */
const anyJson: Check<unknown> = (value) => value;

// ---- seen-set and inbox (federation/receiver.ts) ----

const seenShape = object({
  status: literal('accepted', 'rejected'),
  bodyDigest: optional(string),
  receipt: string,
  code: optional(number),
});
/** The seen-set record of a message id (or of one envelope): accepted with its body digest, or rejected. */
export type SeenRecord = ReturnType<typeof seenShape>;

const inboxShape = object({
  sender: string,
  messageId: string,
  kind: number,
  correlationId: string,
  createdAtMs: number,
  expiresAtMs: number,
  receivedAtMs: number,
  /** Base64 of the body; empty once purged with its case. */
  body: string,
  digest: string,
  header: optional(string),
  signature: optional(string),
  senderKeyId: optional(string),
  purgedAtMs: optional(number),
});
/** A received message as the inbox keeps it (binary fields base64, digest hex). */
export type InboxRecord = ReturnType<typeof inboxShape>;

// ---- outbox queue, sent, failed (federation/outbox.ts) ----

const outboxFields = {
  messageId: string,
  recipient: string,
  kind: number,
  /** Base64 of the body. */
  body: string,
  correlationId: string,
  createdAtMs: number,
  expiresAtMs: number,
  attempts: number,
  lastError: string,
  /** Queue order: increases with every message queued by this node. */
  seq: number,
  orderKey: string,
  /** Own key id to seal with; absent: the current keys at each attempt. */
  senderKeyId: optional(string),
  urgent: optional(boolean),
};
const outboxShape = object(outboxFields);
/** A message waiting in the outbox. */
export type OutboxRecord = ReturnType<typeof outboxShape>;

const sentShape = object({
  messageId: string,
  recipient: string,
  kind: number,
  correlationId: string,
  createdAtMs: number,
  deliveredAtMs: number,
  attempts: number,
  /** Base64 of the ACCEPTED receipt. */
  receipt: string,
  envelope: optional(string),
  envelopeReceipt: optional(string),
  // What a re-delivery to a peer restored from a backup needs (docs/protocol.md 5.6); absent in
  // records written before re-delivery existed.
  /** Base64 of the body. */
  body: optional(string),
  expiresAtMs: optional(number),
  orderKey: optional(string),
});
/** A delivered message: its ACCEPTED receipt and the envelope of the receipted attempt. */
export type SentRecord = ReturnType<typeof sentShape>;

const failedShape = object({
  ...outboxFields,
  seq: optional(number),
  orderKey: optional(string),
  failedAtMs: number,
  reason: string,
  receipt: string,
});
/** A message that failed for good, with the REJECTED receipt (or empty). */
export type FailedRecord = ReturnType<typeof failedShape>;

// ---- audit log (audit/audit-log.ts, audit/verify.ts) ----

const auditEntryShape = object({ line: string, hash: string });
export type AuditEntryRecord = ReturnType<typeof auditEntryShape>;
const checkpointShape = object({ seq: number, hash: string, at: number, keyId: string, signature: string });
/** A signed checkpoint, and the signed head (same layout). */
export type CheckpointRecord = ReturnType<typeof checkpointShape>;

// ---- peers and policies (federation/peers.ts, workflow/policy.ts) ----

const previousCard = object({ card: string, graceUntilMs: number });
const pinShape = object({
  card: optional(string),
  pinnedAt: optional(number),
  previous: optional(array(previousCard)),
  revokedKeyIds: optional(array(string)),
  held: optional(object({ card: string, graceUntilMs: number, receivedAtMs: number })),
  removedAt: optional(number),
});
/** What is kept per participant; without `card`, a removed peer's revoked key ids. */
export type PinRecord = ReturnType<typeof pinShape>;

// ---- records (records/record-store.ts) ----

const recordShape = object({
  v: literal(1),
  record: string,
  retainUntilMs: number,
  retainReason: string,
  serialKeys: array(string),
  identityKeys: optional(array(string)),
  interestKeys: optional(array(string)),
  reference: optional(string),
  /** Base64 of the serialized DestructionCertificate of a destroyed record (docs/protocol.md 19.3). */
  certificate: optional(string),
});
/** The value kept under `records/<record_id>` (docs/adr/0005-records-storage.md). */
export type RecordValue = ReturnType<typeof recordShape>;
const recordIdShape = object({ recordId: string });
const interestShape = object({
  recordId: string,
  serial: string,
  reference: string,
  manufacturer: string,
  model: string,
  calibre: string,
  type: number,
  category: number,
  contactPoint: string,
  /** A record recorded as destroyed (docs/protocol.md 19.5): its destruction date and certificate id. */
  destroyedDate: optional(string),
  certificateId: optional(string),
});
/**
 * What the node keeps of a record of another registry (`g` keys, docs/protocol.md 13.2): its
 * opaque reference, and the report an officer of this node made on it with its index keys.
 */
const registryInterestShape = object({
  recordId: string,
  reference: string,
  report: optional(object({ category: number, date: string, agency: string, reference: string, contactPoint: string })),
  interestKeys: optional(array(string)),
});
/** What the node keeps of a record of another registry: its reference and the node's own report on it. */
export type RegistryInterestRecord = ReturnType<typeof registryInterestShape>;
/** An entry of the records-of-interest index (`s` keys), a reference's pointer (`r` keys), or a registry record's state (`g` keys). */
export type InterestRecord =
  | ReturnType<typeof interestShape>
  | RegistryInterestRecord
  | ReturnType<typeof recordIdShape>;

// ---- lookups (lookup/*.ts) ----

const lookupShape = object({ atMs: number, query: string });
const lookupHitShape = object({ queryId: string, partial: boolean });
const lookupSeenShape = object({ createdAtMs: number, queryId: string });

// ---- approvals (workflow/approvals.ts) ----

const approvalActorShape = object({ kind: string, id: string, session: string });
const approvalShape = object({
  approvalId: string,
  /** The step, by its ApprovalStep number. */
  step: number,
  caseId: string,
  participantId: string,
  summary: string,
  reasons: array(string),
  /** The step's input as JSON (its request message's JSON form), carried out on approval. */
  input: string,
  /** Values the release policy releases only with approval, released by the approval. */
  release: array(string),
  /** The answer is the node's automatic answer (drafted by the node). */
  automatic: boolean,
  drafter: approvalActorShape,
  draftedAtMs: number,
  state: literal('pending', 'approved', 'rejected'),
  approver: optional(approvalActorShape),
  decidedAtMs: optional(number),
  note: optional(string),
});
/** A step in the approvals queue, kept under its id (`apr-000001`). */
export type ApprovalRecord = ReturnType<typeof approvalShape>;
const approvalPolicyShape = object({
  answers: boolean,
  disclosures: boolean,
  refusals: boolean,
  policyChanges: boolean,
  automaticAnswers: boolean,
});
/** The approval policy: which steps wait for a supervisor's approval. */
export type ApprovalPolicyRecord = ReturnType<typeof approvalPolicyShape>;
// ---- access (access/access-control.ts) ----

const roleCheck = literal('officer', 'supervisor', 'auditor', 'administrator');
const officerShape = object({
  officerId: string,
  displayName: string,
  roles: array(roleCheck),
  /** `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>` (access/passwords.ts); '' for an account signed in only through OIDC. */
  passwordHash: string,
  /** Base32 TOTP secret (RFC 6238); '' when no second factor is set. */
  totpSecret: string,
  totpRequired: boolean,
  disabled: boolean,
  createdAtMs: number,
  failedAttempts: number,
  /** No sign-in is checked before this (back-off after a failure, or a lockout). */
  notBeforeMs: number,
  lockedUntilMs: number,
  lastLoginAtMs: number,
  /** Last TOTP time step accepted: a code is never accepted twice. */
  lastTotpStep: number,
  /** The console language the officer chose (ar, zh, en, fr, ru, es); absent: none yet. */
  language: optional(string),
});
/** An officer account as stored: the password only as a scrypt hash. */
export type OfficerRecord = ReturnType<typeof officerShape>;

const sessionShape = object({
  sessionId: string,
  officerId: string,
  createdAtMs: number,
  expiresAtMs: number,
  revokedAtMs: number,
  /** How the officer signed in: 'password' or 'oidc'. */
  method: string,
});
/** A session, stored under the SHA-256 (hex) of its token: the token itself is never stored. */
export type SessionRecord = ReturnType<typeof sessionShape>;

const clientShape = object({
  clientId: string,
  roles: array(roleCheck),
  keyId: string,
  /** SHA-256 (hex) of the secret part of the API key. */
  secretHash: string,
  createdAtMs: number,
  expiresAtMs: number,
  revokedAtMs: number,
});
/** A named client and its API key's digest. */
export type ClientRecord = ReturnType<typeof clientShape>;

// ---- meta ----

const rosterShape = object({ roster: string, loadedAtMs: number });
const schemaShape = object({ version: number });

/**
 * The keys of the `meta` sublevel: the one list of them (a backup reads some raw, see
 * `rawMetaKey` in backup.ts).
 */
export const META = {
  signedHead: 'audit-head',
  roster: 'roster',
  probe: 'store-probe',
  schema: 'schema',
  restored: 'restored-from-backup',
  approvalPolicy: 'approval-policy',
} as const;

/** The mark a restore leaves until the peers are asked to deliver again (docs/protocol.md 5.6). */
const restoredShape = object({ backupCreatedAtMs: number });

/** One value under a fixed key of a key space. */
export class Cell<T> {
  constructor(
    private readonly collection: Collection<T>,
    readonly key: string,
  ) {}

  get(options: { readonly snapshot?: Snapshot } = {}): Promise<T | undefined> {
    return this.collection.get(this.key, options);
  }

  put(value: T): Operation {
    return this.collection.put(this.key, value);
  }

  del(): Operation {
    return this.collection.del(this.key);
  }
}

/** Aggregate: the seen-set and the inbox. */
export interface MessagesRepository {
  readonly seen: Collection<SeenRecord>;
  /** Keyed by arrival (`pad16(receivedAtMs) \0 sender \0 messageId`). */
  readonly inbox: Collection<InboxRecord>;
}

/** Aggregate: the outbox queue, the delivered and the failed messages, keyed by message id. */
export interface OutboxRepository {
  readonly queue: Collection<OutboxRecord>;
  readonly sent: Collection<SentRecord>;
  readonly failed: Collection<FailedRecord>;
}

/** Aggregate: the tamper-evident log, its checkpoints and signed head, and the node events. */
export interface AuditRepository {
  /** Keyed by `pad16(seq)`. */
  readonly entries: Collection<AuditEntryRecord>;
  /** The entries as stored, not checked: verification reports damage itself. */
  readonly evidence: Collection<unknown>;
  readonly checkpoints: Collection<CheckpointRecord>;
  readonly checkpointEvidence: Collection<unknown>;
  readonly signedHead: Cell<CheckpointRecord>;
  readonly signedHeadEvidence: Cell<unknown>;
  /** Node events, keyed by `pad16(sequence)`. */
  readonly events: Collection<NodeEvent>;
}

/** Aggregate: pinned peers and per-peer policies, keyed by participant id. */
export interface PeersRepository {
  readonly pins: Collection<PinRecord>;
  readonly policies: Collection<PeerPolicy>;
}

/** Aggregate: hits on this node's records and this node's own lookups. */
export interface LookupsRepository {
  /** Keyed by `pad16(atMs) \0 pad16(sequence) \0 hitId`, so that listings come newest first. */
  readonly hits: Collection<HitNotice>;
  /** `q \0 queryId` → the lookup made; `h \0 owner \0 reference` → the lookup that got the hit. */
  readonly made: Collection<ReturnType<typeof lookupShape>>;
  readonly received: Collection<ReturnType<typeof lookupHitShape>>;
  /** Lookups answered: `sender \0 messageId`. */
  readonly answered: Collection<ReturnType<typeof lookupSeenShape>>;
}

/** Aggregate: weapon records and their indexes (ADR 0005). */
export interface RecordsRepository {
  readonly records: Collection<RecordValue>;
  /** `serial \0 recordId` → `{recordId}`. */
  readonly serials: Collection<ReturnType<typeof recordIdShape>>;
  /** The retired identity index: only deleted. */
  readonly identities: Collection<unknown>;
  /**
   * Records of interest: `s \0 serial \0 recordId` → entry; `r \0 reference` → `{recordId}`;
   * `g \0 recordId` → reference and report of a record of another registry.
   */
  readonly interest: Collection<InterestRecord>;
}

/** Aggregate: the approvals queue and the approval policy (docs/protocol.md 12.12). */
export interface ApprovalsRepository {
  /** Keyed by approval id (`apr-` and a zero-padded number), so that the key order is the drafting order. */
  readonly queue: Collection<ApprovalRecord>;
  readonly policy: Cell<ApprovalPolicyRecord>;
}

/** Aggregate: officer accounts (by id), sessions (by token digest) and clients (by id). */
export interface AccessRepository {
  readonly officers: Collection<OfficerRecord>;
  readonly sessions: Collection<SessionRecord>;
  readonly clients: Collection<ClientRecord>;
}

/** Aggregate: the node's own keys and settings. */
export interface MetaRepository {
  readonly roster: Cell<ReturnType<typeof rosterShape>>;
  readonly probe: Cell<{ readonly at: number }>;
  readonly schema: Cell<ReturnType<typeof schemaShape>>;
  /** Set by `tracenet backup restore`; removed once the peers have been asked to deliver again. */
  readonly restored: Cell<ReturnType<typeof restoredShape>>;
}

/**
 * A page of a listing; `next` is empty on the last page, else the opaque token of the next page.
 * `tokens[i]` resumes the listing right after `items[i]` (a caller that keeps only some items).
 */
export interface Page<T> {
  readonly items: T[];
  readonly tokens: string[];
  readonly next: string;
}

/** Which cases a {@link CasesRepository.page} lists. */
export interface CaseQuery {
  readonly state?: CaseState;
  readonly peer?: string;
  readonly limit: number;
  /** `next` of the previous page. */
  readonly token?: string;
}

const S = CaseState;
/** States in which the acknowledgement deadline runs (docs/protocol.md 12.4). */
export const WAITING_FOR_ACK: ReadonlySet<CaseState> = new Set([S.CASE_STATE_SENT, S.CASE_STATE_RECEIVED]);
/** States in which the answer deadline runs. */
export const WAITING_FOR_ANSWER: ReadonlySet<CaseState> = new Set([
  S.CASE_STATE_SENT,
  S.CASE_STATE_RECEIVED,
  S.CASE_STATE_ACKNOWLEDGED,
  S.CASE_STATE_DELAYED,
  S.CASE_STATE_CLARIFICATION,
]);

/** The next deadline of a case (acknowledgement or answer, whichever runs and comes first), or 0. */
export function nextDeadline(c: Case): number {
  const due = [
    WAITING_FOR_ACK.has(c.state) ? c.acknowledgeDueAtMs : 0,
    WAITING_FOR_ANSWER.has(c.state) ? c.answerDueAtMs : 0,
  ].filter((ms) => ms > 0);
  return due.length === 0 ? 0 : Math.min(...due);
}

const SEP = '\u0000';
const caseIndexKeys = (c: Case) => ({
  state: `${padNumber(c.state, 3)}${SEP}${c.caseId}`,
  peer: `${c.peer}${SEP}${c.caseId}`,
  deadline: nextDeadline(c) > 0 ? `${padNumber(nextDeadline(c))}${SEP}${c.caseId}` : undefined,
});

const encodeToken = (key: string) => Buffer.from(key, 'utf8').toString('base64url');
const decodeToken = (token: string) => Buffer.from(token, 'base64url').toString('utf8');

/**
 * Aggregate: cases, the trace and chain index (keys chosen by the workflow), and three indexes the
 * repository keeps in the batch of every case it writes: by state, by peer and by next deadline.
 */
export class CasesRepository {
  readonly #cases: Collection<Case>;
  readonly #states: Collection<ReturnType<typeof caseIdShape>>;
  readonly #peers: Collection<ReturnType<typeof caseIdShape>>;
  readonly #deadlines: Collection<ReturnType<typeof caseIdShape>>;
  /** `t \0 requester \0 traceId` and `c \0 requester \0 chainId \0 caseId` → `{caseId}`. */
  readonly traces: Collection<ReturnType<typeof caseIdShape>>;

  constructor(collection: <T>(name: SpaceName, codec: Codec<T>) => Collection<T>) {
    const ids = jsonCodec(caseIdShape);
    this.#cases = collection('cases', protoCodec('case', Case));
    this.traces = collection('case-traces', ids);
    this.#states = collection('case-states', ids);
    this.#peers = collection('case-peers', ids);
    this.#deadlines = collection('case-deadlines', ids);
  }

  get(caseId: string): Promise<Case | undefined> {
    return this.#cases.get(caseId);
  }

  /** The trace or chain index entry under `key`, or undefined. */
  async traced(key: string): Promise<string | undefined> {
    return (await this.traces.get(key))?.caseId;
  }

  /** Every case, newest first from `before` (a case id, exclusive). */
  all(range: { readonly before?: string } = {}): AsyncGenerator<Case> {
    return this.#cases.values(range.before === undefined ? { reverse: true } : { reverse: true, lt: range.before });
  }

  /**
   * The writes that store `next` and move its index entries from the version on disk: for the
   * caller's batch. Call under the case's lock, so that no other write of it lands in between
   * (a listing skips an index entry that no longer matches its case anyway).
   */
  async put(next: Case): Promise<Operation[]> {
    return this.indexed(next, await this.#cases.get(next.caseId));
  }

  /** The writes that store `next` in place of `previous` (undefined: a new case, or reindexing). */
  indexed(next: Case, previous: Case | undefined): Operation[] {
    const keys = caseIndexKeys(next);
    const operations = [this.#cases.put(next.caseId, next)];
    if (previous) {
      const old = caseIndexKeys(previous);
      if (old.state !== keys.state) operations.push(this.#states.del(old.state));
      if (old.peer !== keys.peer) operations.push(this.#peers.del(old.peer));
      if (old.deadline !== undefined && old.deadline !== keys.deadline)
        operations.push(this.#deadlines.del(old.deadline));
    }
    const value = { caseId: next.caseId };
    operations.push(this.#states.put(keys.state, value), this.#peers.put(keys.peer, value));
    if (keys.deadline !== undefined) operations.push(this.#deadlines.put(keys.deadline, value));
    return operations;
  }

  /**
   * One page of cases, newest first, in the given state and/or with the given peer, read through
   * their index (never a scan of every case). Cases whose stored version no longer matches (an
   * index entry not yet replaced) are skipped.
   */
  async page(query: CaseQuery): Promise<Page<Case>> {
    const [index, prefix] =
      query.state !== undefined && query.state !== S.CASE_STATE_UNSPECIFIED
        ? [this.#states, `${padNumber(query.state, 3)}${SEP}`]
        : query.peer
          ? [this.#peers, `${query.peer}${SEP}`]
          : [undefined, ''];
    const after = query.token ? decodeToken(query.token) : undefined;
    const items: Case[] = [];
    const tokens: string[] = [];
    const matches = (c: Case) =>
      (query.state === undefined || query.state === S.CASE_STATE_UNSPECIFIED || c.state === query.state) &&
      (!query.peer || c.peer === query.peer);
    if (index === undefined) {
      for await (const c of this.all(after === undefined ? {} : { before: after })) {
        if (items.length === query.limit) return { items, tokens, next: tokens.at(-1) ?? '' };
        items.push(c);
        tokens.push(encodeToken(c.caseId));
      }
      return { items, tokens, next: '' };
    }
    for await (const [key, { caseId }] of index.entries({
      reverse: true,
      gte: prefix,
      lt: after ?? `${prefix}\uffff`,
    })) {
      const c = await this.#cases.get(caseId);
      if (!c || !matches(c)) continue;
      if (items.length === query.limit) return { items, tokens, next: tokens.at(-1) ?? '' };
      items.push(c);
      tokens.push(encodeToken(key));
    }
    return { items, tokens, next: '' };
  }

  /** Cases whose next deadline is at or before `atMs`, earliest first, from their index. */
  async due(atMs: number, options: { readonly limit?: number; readonly token?: string } = {}): Promise<Page<Case>> {
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    const items: Case[] = [];
    const tokens: string[] = [];
    const from = options.token ? { gt: decodeToken(options.token) } : {};
    for await (const [key, { caseId }] of this.#deadlines.entries({ ...from, lt: `${padNumber(atMs)}${SEP}\uffff` })) {
      const c = await this.#cases.get(caseId);
      if (!c || caseIndexKeys(c).deadline !== key) continue;
      if (items.length === limit) return { items, tokens, next: tokens.at(-1) ?? '' };
      items.push(c);
      tokens.push(encodeToken(key));
    }
    return { items, tokens, next: '' };
  }

  /** The earliest next deadline of any case, or undefined when none runs. */
  async nextDeadline(): Promise<{ readonly caseId: string; readonly atMs: number } | undefined> {
    for await (const [key, { caseId }] of this.#deadlines.entries()) {
      const c = await this.#cases.get(caseId);
      if (c && caseIndexKeys(c).deadline === key) return { caseId, atMs: nextDeadline(c) };
    }
    return undefined;
  }
}

const caseIdShape = object({ caseId: string });

/** Directions of {@link StoreRepositories.messagePage}: received, queued, delivered, failed for good. */
export type MessageDirection = 'inbox' | 'outbox' | 'sent' | 'failed';

/** A stored message of some direction, as {@link StoreRepositories.messagePage} lists it. */
export type StoredMessage =
  | { readonly direction: 'inbox'; readonly record: InboxRecord }
  | { readonly direction: 'outbox'; readonly record: OutboxRecord }
  | { readonly direction: 'sent'; readonly record: SentRecord }
  | { readonly direction: 'failed'; readonly record: FailedRecord };

/** Every repository of a store. */
export interface StoreRepositories {
  readonly messages: MessagesRepository;
  readonly outbox: OutboxRepository;
  readonly cases: CasesRepository;
  readonly audit: AuditRepository;
  readonly peers: PeersRepository;
  readonly lookups: LookupsRepository;
  readonly records: RecordsRepository;
  readonly meta: MetaRepository;
  readonly approvals: ApprovalsRepository;
  readonly access: AccessRepository;
  /** Re-export flags raised (`r \0 flagId`) and received (`x \0 sender \0 flagId`), docs/protocol.md 18. */
  readonly reexports: { readonly flags: Collection<ReexportFlag> };
  /**
   * One page of the messages of a direction, in key order (the inbox by arrival, the others by
   * message id); `token` is `next` of the previous page.
   */
  messagePage(
    direction: MessageDirection,
    options: { readonly limit: number; readonly token?: string },
  ): Promise<Page<StoredMessage>>;
}

async function pageOf<T>(
  collection: Collection<T>,
  wrap: (record: T) => StoredMessage,
  options: { readonly limit: number; readonly token?: string },
): Promise<Page<StoredMessage>> {
  const items: StoredMessage[] = [];
  const tokens: string[] = [];
  const range = options.token
    ? { gt: decodeToken(options.token), limit: options.limit + 1 }
    : { limit: options.limit + 1 };
  for await (const [key, record] of collection.entries(range)) {
    if (items.length === options.limit) return { items, tokens, next: tokens.at(-1) ?? '' };
    items.push(wrap(record));
    tokens.push(encodeToken(key));
  }
  return { items, tokens, next: '' };
}

/** The repositories over one engine. */
export function createRepositories(engine: Engine): StoreRepositories {
  const collection = <T>(name: SpaceName, codec: Codec<T>) => new Collection(name, engine.space(name), codec);
  const json = <T>(name: SpaceName, check: Check<T>) => collection(name, jsonCodec(check));
  const meta = <T>(key: string, check: Check<T>) => new Cell(json('meta', check), key);
  const messages = { seen: json('seen', seenShape), inbox: json('inbox', inboxShape) };
  const outbox = {
    queue: json('outbox', outboxShape),
    sent: json('sent', sentShape),
    failed: json('failed', failedShape),
  };
  return {
    messages,
    outbox,
    messagePage: (direction, options) => {
      switch (direction) {
        case 'inbox':
          return pageOf(messages.inbox, (record) => ({ direction, record }), options);
        case 'outbox':
          return pageOf(outbox.queue, (record) => ({ direction, record }), options);
        case 'sent':
          return pageOf(outbox.sent, (record) => ({ direction, record }), options);
        case 'failed':
          return pageOf(outbox.failed, (record) => ({ direction, record }), options);
      }
    },
    cases: new CasesRepository(collection),
    audit: {
      entries: json('audit', auditEntryShape),
      evidence: json('audit', anyJson),
      checkpoints: json('checkpoints', checkpointShape),
      checkpointEvidence: json('checkpoints', anyJson),
      signedHead: meta(META.signedHead, checkpointShape),
      signedHeadEvidence: meta(META.signedHead, anyJson),
      events: collection('events', protoCodec('event', NodeEvent)),
    },
    peers: { pins: json('peers', pinShape), policies: collection('policies', protoCodec('policy', PeerPolicy)) },
    lookups: {
      hits: collection('hits', protoCodec('notice', HitNotice)),
      made: json('lookups', lookupShape),
      received: json('lookups', lookupHitShape),
      answered: json('lookup-seen', lookupSeenShape),
    },
    records: {
      records: json('records', recordShape),
      serials: json('record-serials', recordIdShape),
      identities: json('record-identities', anyJson),
      interest: json(
        'interest',
        either<ReturnType<typeof interestShape>, RegistryInterestRecord | ReturnType<typeof recordIdShape>>(
          interestShape,
          either(registryInterestShape, recordIdShape),
        ),
      ),
    },
    approvals: {
      queue: json('approvals', approvalShape),
      policy: meta(META.approvalPolicy, approvalPolicyShape),
    },
    reexports: { flags: collection('reexport-flags', protoCodec('flag', ReexportFlag)) },
    access: {
      officers: json('officers', officerShape),
      sessions: json('sessions', sessionShape),
      clients: json('clients', clientShape),
    },
    meta: {
      roster: meta(META.roster, rosterShape),
      probe: meta(META.probe, object({ at: number })),
      schema: meta(META.schema, schemaShape),
      restored: meta(META.restored, restoredShape),
    },
  };
}
