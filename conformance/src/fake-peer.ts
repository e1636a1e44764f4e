import {
  type Client,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceError,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import {
  EnvelopeHeader,
  ErrorCode,
  FederationService,
  GetPeerCardResponse,
  LookupAnswer,
  LookupQuery,
  MessageKind,
  Notice,
  ParticipantKind,
  type PeerCard,
  PeerCardBody,
  Receipt,
  ReceiptStatus,
  TracenetError,
} from '@tracenet/proto';
import { BODY_TYPES } from './bodies.js';
import { CaseFailure, outcomeOf, type Outcome } from './check.js';
import {
  bodyDigest,
  certificateSha256,
  createTlsIdentity,
  ENVELOPE_VERSION,
  keyIdOf,
  open,
  OpenFailure,
  pairKey,
  parse,
  type ParticipantKeys,
  participantKeys,
  randomBytes,
  seal,
  type Sealed,
  signCard,
  signEnvelope,
  signReceipt,
  type TlsIdentity,
} from './codec/index.js';
import { senderProblems } from './sender-rules.js';
import type { Target } from './target.js';

/** Replay window the suite assumes of the node under test (protocol 4: default 5 minutes). */
export const DEFAULT_REPLAY_WINDOW_MS = 300_000;

/** Deadline of one delivery attempt the suite assumes of the node under test (protocol 5.5: default 10 s). */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;

/** Largest envelope a fake peer parses from the node (far above any limit a node has). */
const MAX_PARSE_BYTES = 64 * 1024 * 1024;

/** Short name of a kind: MESSAGE_KIND_TRACE_ANSWER → TRACE_ANSWER. */
export function kindName(kind: MessageKind): string {
  return (MessageKind[kind] ?? `kind ${kind}`).replace(/^MESSAGE_KIND_/, '');
}

/** A message the node under test delivered to a fake peer, opened and verified. */
export interface ReceivedMessage {
  readonly header: EnvelopeHeader;
  readonly kind: MessageKind;
  /** The body bytes as signed. */
  readonly bodyBytes: Buffer;
  /** The body decoded as the type its kind names. */
  readonly body: unknown;
  readonly receivedAtMs: number;
  readonly receipt: Receipt;
  /** The digest of the envelope (protocol 3.6). */
  readonly digest: Buffer;
}

/**
 * How a fake peer answers one Deliver: `'default'` accepts (a valid ACCEPTED receipt, remembered
 * for duplicates); a Receipt is sent as given (not remembered); a TracenetError is a refusal — with
 * its own `receipt` if it carries one (sent as given, not remembered), else a signed REJECTED
 * receipt (remembered: a retry of the message is a reuse), unless `retryable` (then no receipt and
 * nothing remembered, like a transient failure). `{ delayMs, then }` takes the envelope as `then` says at once but holds the
 * answer (a receipt or a refusal) back for `delayMs`.
 */
export type DeliverAnswer =
  | 'default'
  | Receipt
  | TracenetError
  | { readonly delayMs: number; readonly then: Exclude<DeliverAnswer, { delayMs: number }> };

/** How a fake peer answers a Deliver: the default is a valid ACCEPTED receipt. */
export type DeliverResponder = (message: ReceivedMessage, digest: Buffer) => DeliverAnswer;

const Generic = makeGenericClientConstructor({}, 'Federation');

/**
 * The suite's side of the wire: one gRPC Federation server (TLS) that every fake peer of a run
 * advertises, and one client to the node under test that trusts only the certificate in its card
 * and presents the fake peers' certificate (protocol 2.5). Fake peers share the server and its
 * certificate; an incoming envelope is routed to the fake peer its header names as recipient.
 */
export class PeerHost {
  readonly #peers = new Map<string, FakePeer>();
  readonly #server: Server;
  #client: Client;
  #target: Target;
  readonly #used = new Set<string>();
  /** Problems with what the node sent that no fake peer could take (unknown recipient, junk). */
  readonly strays: string[] = [];

  private constructor(
    target: Target,
    readonly address: string,
    readonly tls: TlsIdentity,
    server: Server,
    readonly replayWindowMs: number,
    taken: Iterable<string>,
  ) {
    this.#server = server;
    this.#target = target;
    for (const id of taken) this.#used.add(id);
    this.#client = this.#connect(target);
  }

  /** The node under test as the suite currently knows it. */
  get target(): Target {
    return this.#target;
  }

  #connect(target: Target): Client {
    const tls = credentials.createSsl(
      Buffer.from(target.tlsCertificatePem),
      Buffer.from(this.tls.privateKeyPem),
      Buffer.from(this.tls.certificatePem),
      { checkServerIdentity: () => undefined },
    );
    return new Generic(target.federation, tls, {
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
      'grpc.ssl_target_name_override': 'tracenet-peer',
      'grpc.enable_retries': 0,
      // A handshake refused before any fake peer was pinned is tried again soon after.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
  }

  /** Points the client at the node again (after a restart: new ports, maybe a renewed card). */
  retarget(target: Target): void {
    this.#client.close();
    this.#target = target;
    this.#client = this.#connect(target);
  }

  /** Starts the shared Federation server on 127.0.0.1 (port 0) and connects to the node under test. */
  static async start(target: Target, options: { replayWindowMs?: number } = {}): Promise<PeerHost> {
    const tls = await createTlsIdentity('conformance fake peers', 7 * 86_400_000);
    const server = new Server({ 'grpc.max_receive_message_length': MAX_PARSE_BYTES });
    const pinned = await target.authority.call('listPeers', {});
    // The handlers reach the host once it exists (it needs the bound port first).
    const ref: { host?: PeerHost } = {};
    const handlers = {
      deliver: (call: ServerUnaryCall<Buffer, Receipt>, callback: sendUnaryData<Receipt>) => {
        const host = ref.host;
        if (!host) return callback({ code: 14, details: 'not ready' } as ServiceError);
        host.#deliver(call.request).then(
          (receipt) => callback(null, receipt),
          (error: unknown) => callback(TracenetError.from(error).toStatus() as ServiceError),
        );
      },
      lookup: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        const host = ref.host;
        const reply = (answer: Buffer | TracenetError | undefined) => {
          if (answer instanceof TracenetError) callback(answer.toStatus() as ServiceError);
          else if (answer) callback(null, answer);
          // undefined: no answer before the caller's deadline; the call is closed a while later.
          else
            setTimeout(
              () =>
                callback(
                  new TracenetError(
                    ErrorCode.ERROR_CODE_UNAVAILABLE,
                    'the fake peer stayed silent',
                  ).toStatus() as ServiceError,
                ),
              5000,
            ).unref();
        };
        try {
          const recipient = parse(call.request).header.recipient;
          const peer = host?.peer(recipient);
          if (!peer?.lookupResponder) {
            host?.strays.push(
              `the node called Federation.Lookup on ${recipient}, which no case asked to answer lookups`,
            );
            reply(
              new TracenetError(ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED, 'this fake peer answers no lookups', {
                field: 'header.kind',
                rule: 'peer_policy',
              }),
            );
            return;
          }
          void Promise.resolve(peer.answerLookup(call.request)).then(reply, (error: unknown) =>
            reply(TracenetError.from(error)),
          );
        } catch (error) {
          reply(TracenetError.from(error));
        }
      },
      getPeerCard: (
        _call: ServerUnaryCall<unknown, GetPeerCardResponse>,
        callback: sendUnaryData<GetPeerCardResponse>,
      ) => callback(null, { card: undefined }),
    };
    server.addService(
      {
        deliver: { ...FederationService.deliver, requestDeserialize: (bytes: Buffer): Buffer => bytes },
        lookup: {
          ...FederationService.lookup,
          requestDeserialize: (bytes: Buffer): Buffer => bytes,
          responseSerialize: (bytes: Buffer): Buffer => bytes,
        },
        getPeerCard: FederationService.getPeerCard,
      },
      handlers,
    );
    const credentialsOfServer = ServerCredentials.createSsl(
      null,
      [{ cert_chain: Buffer.from(tls.certificatePem), private_key: Buffer.from(tls.privateKeyPem) }],
      false,
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentialsOfServer, (error, p) => (error ? reject(error) : resolve(p))),
    );
    const host = new PeerHost(
      target,
      `127.0.0.1:${port}`,
      tls,
      server,
      options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS,
      [target.participantId, ...pinned.peers.map((p) => p.participantId)],
    );
    ref.host = host;
    return host;
  }

  /**
   * A participant id the node under test has not pinned: a state id from the ISO 3166 user-assigned
   * ranges (XAA–XZZ, QMA–QZZ), or an organisation id with a random suffix.
   */
  freshId(kind: ParticipantKind = ParticipantKind.PARTICIPANT_KIND_STATE): string {
    if (kind === ParticipantKind.PARTICIPANT_KIND_ORGANISATION) {
      const id = `org:conformance-${randomBytes(6).toString('hex')}`;
      this.#used.add(id);
      return id;
    }
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const candidates: string[] = [];
    for (const first of ['X', 'Q']) {
      for (const second of letters) {
        if (first === 'Q' && second < 'M') continue;
        for (const third of letters) {
          const id = `${first}${second}${third}`;
          if (!this.#used.has(id)) candidates.push(id);
        }
      }
    }
    const id = candidates[randomBytes(4).readUInt32BE(0) % candidates.length];
    if (!id) throw new Error('no unused participant id is left for a fake peer; run the suite against a fresh node');
    this.#used.add(id);
    return id;
  }

  /** Creates a fake peer (keys and a signed card naming this host); it is not pinned anywhere yet. */
  createPeer(
    options: { participantId?: string; kind?: ParticipantKind; validForMs?: number; keys?: ParticipantKeys } = {},
  ): FakePeer {
    const kind = options.kind ?? ParticipantKind.PARTICIPANT_KIND_STATE;
    const participantId = options.participantId ?? this.freshId(kind);
    const peer = new FakePeer(
      this,
      participantId,
      kind,
      options.keys ?? participantKeys(),
      options.validForMs ?? 86_400_000,
    );
    this.#peers.set(participantId, peer);
    return peer;
  }

  /** The fake peer with this participant id, if this host made it. */
  peer(participantId: string): FakePeer | undefined {
    return this.#peers.get(participantId);
  }

  /** Every fake peer made by this host. */
  get peers(): FakePeer[] {
    return [...this.#peers.values()];
  }

  /**
   * Waits up to `ms` for the connection to the node to be ready. The node closes a handshake whose
   * certificate no pinned card names (2.5), so a connection tried before the case pinned its fake
   * peer is in backoff; a call made then would fail at once with UNAVAILABLE. When it does not get
   * ready (the node refuses the handshake), the call is made all the same and reports what happens.
   */
  #ready(ms: number): Promise<void> {
    return new Promise((resolve) => this.#client.waitForReady(Date.now() + ms, () => resolve()));
  }

  async #unary<T>(path: string, bytes: Uint8Array, decode: (b: Buffer) => T, deadlineMs: number): Promise<Outcome<T>> {
    await this.#ready(Math.min(3000, deadlineMs / 2));
    return outcomeOf(
      new Promise<T>((resolve, reject) => {
        this.#client.makeUnaryRequest(
          path,
          (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
          decode,
          bytes,
          new Metadata(),
          { deadline: Date.now() + deadlineMs },
          (error: ServiceError | null, answer?: T) =>
            error ? reject(error) : answer !== undefined ? resolve(answer) : reject(new Error('empty answer')),
        );
      }),
    );
  }

  /** Sends raw bytes to the node's `Federation.Deliver`; the answer as received. */
  deliverRaw(bytes: Uint8Array, deadlineMs = 15_000): Promise<Outcome<Receipt>> {
    return this.#unary(FederationService.deliver.path, bytes, (b) => Receipt.decode(b), deadlineMs);
  }

  /** Sends raw bytes to the node's `Federation.Lookup`; the raw answer envelope bytes as received. */
  lookupRaw(bytes: Uint8Array, deadlineMs = 15_000): Promise<Outcome<Buffer>> {
    return this.#unary(FederationService.lookup.path, bytes, (b) => b, deadlineMs);
  }

  /** Calls the node's `Federation.GetPeerCard`. */
  getPeerCard(): Promise<Outcome<GetPeerCardResponse>> {
    return this.#unary(
      FederationService.getPeerCard.path,
      new Uint8Array(0),
      (b) => GetPeerCardResponse.decode(b),
      10_000,
    );
  }

  async #deliver(raw: Buffer): Promise<Receipt> {
    let recipient: string;
    try {
      recipient = parse(raw).header.recipient;
    } catch (error) {
      this.strays.push(`the node delivered an envelope that does not parse: ${(error as Error).message}`);
      throw error;
    }
    const peer = this.#peers.get(recipient);
    if (!peer) {
      this.strays.push(`the node delivered an envelope to ${recipient}, which is no fake peer of this run`);
      throw new TracenetError(ErrorCode.ERROR_CODE_WRONG_RECIPIENT, `no fake peer ${recipient}`, {
        field: 'header.recipient',
        rule: 'recipient',
      });
    }
    return peer.receive(raw);
  }

  /** Stops the server and the client. Idempotent. */
  async stop(): Promise<void> {
    this.#client.close();
    await new Promise<void>((resolve) => {
      // A silent fake peer may hold a call open: force the shutdown after a second.
      const force = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, 1000);
      this.#server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}

/** What a fake peer seals; everything not given makes a correct envelope to the node under test. */
export interface SealOptions {
  readonly kind?: MessageKind;
  readonly body?: Uint8Array;
  readonly messageId?: string;
  readonly createdAtMs?: number;
  readonly expiresAtMs?: number;
  readonly correlationId?: string;
  /** Header fields to change after the defaults (e.g. a wrong recipient), before sealing. */
  readonly header?: Partial<EnvelopeHeader>;
  /** Send these exact header bytes (e.g. another valid encoding of the header) instead of encoding it. */
  readonly headerBytes?: (header: EnvelopeHeader) => Uint8Array;
  /** Sign a different header than the one sent (the signature then covers other bytes). */
  readonly signHeader?: Partial<EnvelopeHeader>;
  /** Sign with this Ed25519 secret key instead of the peer's own. */
  readonly signingSecretKey?: Uint8Array;
  /** Encrypt under this pair key instead of the peer–node pair key. */
  readonly pairKey?: Uint8Array;
  /** Seal and sign with these keys of the peer (e.g. its previous keys after a rotation), naming their key id. */
  readonly keySet?: KeySet;
  /** The nonce (random by default). */
  readonly nonce?: Uint8Array;
}

/** A fresh message id: 128 random bits, base64url (protocol 3.2). */
export function newMessageId(): string {
  return randomBytes(16).toString('base64url');
}

/** One set of a fake peer's keys with its card (a peer has more than one after a rotation). */
export interface KeySet {
  readonly keys: ParticipantKeys;
  readonly keyId: string;
  readonly card: PeerCard;
}

/** A sealed envelope with the header it carries. */
export type SealedEnvelope = Sealed & { header: EnvelopeHeader };

/**
 * A participant played by the suite: its own keys and signed card, pinned on the node under test
 * through the Authority API. It seals envelopes to the node (correct ones, and every kind of
 * broken one), and receives what the node delivers to it: every envelope is opened and checked
 * (addressing, AEAD, signature, time) and answered with a signed receipt. Anything it receives
 * that no case consumed is a failure of the case that owns it (Complement's rule).
 */
export class FakePeer {
  #current: KeySet;
  /** Key sets this peer rotated away from, newest first. */
  readonly previous: KeySet[] = [];
  /** Messages received and not yet consumed by {@link expect}. */
  readonly inbox: ReceivedMessage[] = [];
  /** Everything received, consumed or not, copies answered DUPLICATE included. */
  readonly received: ReceivedMessage[] = [];
  /** Protocol violations in what the node sent to this peer. */
  readonly violations: string[] = [];
  /** How the next deliveries are answered; the default is a valid ACCEPTED receipt. */
  responder: DeliverResponder = () => 'default';
  /**
   * How this peer answers the node's `Federation.Lookup` queries: the hits to answer with (this peer
   * seals a correct LOOKUP_ANSWER), an error, `'silent'` (never answers), or a function of the query
   * returning the answer body to seal. Unset: a lookup to this peer is unexpected.
   */
  lookupResponder: ((query: LookupQuery) => LookupAnswer | TracenetError | 'silent') | undefined;
  /** When set, the correlation id of this peer's lookup answers instead of the query envelope's message id (a misbehaving owner). */
  lookupCorrelationId: string | undefined;
  /** Queries the node sent to this peer. */
  readonly lookups: LookupQuery[] = [];
  readonly #seen = new Map<string, { bodyDigest: string; receipt: Receipt }>();
  /** Nonces of every envelope the node sent this peer (protocol 3.5: never reused). */
  readonly #nonces = new Set<string>();
  readonly #waiters = new Set<() => void>();

  constructor(
    readonly host: PeerHost,
    readonly participantId: string,
    readonly kind: ParticipantKind,
    keys: ParticipantKeys,
    readonly validForMs: number,
  ) {
    this.#current = this.#keySet(keys, Date.now());
  }

  #keySet(keys: ParticipantKeys, issuedAtMs: number): KeySet {
    return { keys, keyId: keyIdOf(keys), card: this.makeCard(keys, { issuedAtMs }) };
  }

  /**
   * A card of this peer for `keys` (protocol 2.3), self-signed with them, naming this host; `changes`
   * alter the body before signing (cases build wrong cards with it).
   */
  makeCard(keys: ParticipantKeys, changes: Partial<PeerCardBody> = {}): PeerCard {
    const der = this.host.tls.certificateDer;
    const issuedAtMs = changes.issuedAtMs ?? Date.now();
    return signCard(
      {
        version: 1,
        participantId: this.participantId,
        kind: this.kind,
        displayName: `conformance ${this.participantId}`,
        endpoints: [this.host.address],
        signingPublicKey: keys.signingPublicKey,
        encryptionPublicKey: keys.encryptionPublicKey,
        keyId: keyIdOf(keys),
        tlsCertificate: der,
        tlsCertificateSha256: certificateSha256(der),
        validFromMs: issuedAtMs - 60_000,
        validUntilMs: issuedAtMs + this.validForMs,
        issuedAtMs,
        recordsProfile: undefined,
        ...changes,
      },
      keys.signingSecretKey,
    );
  }

  get keys(): ParticipantKeys {
    return this.#current.keys;
  }
  get keyId(): string {
    return this.#current.keyId;
  }
  get card(): PeerCard {
    return this.#current.card;
  }
  /** The current key set. */
  get keySet(): KeySet {
    return this.#current;
  }

  /** The pair key of `keySet` (default: current) with the node's current keys (protocol 3.3). */
  pairKey(keySet: KeySet = this.#current): Buffer {
    const target = this.host.target.cardBody;
    return pairKey(keySet.keys.encryptionSecretKey, keySet.keys.encryptionPublicKey, target.encryptionPublicKey);
  }

  /**
   * Takes new keys and a new card (a newer `issued_at_ms`), keeping the current ones as previous
   * (protocol 15.2). Returns the new key set; announcing it is up to the case.
   */
  rotate(keys: ParticipantKeys = participantKeys()): KeySet {
    this.previous.unshift(this.#current);
    this.#current = this.#keySet(
      keys,
      Math.max(Date.now(), (this.previous[0]?.card ? issuedAt(this.previous[0]) : 0) + 1),
    );
    return this.#current;
  }

  /** The header of a correct envelope from this peer to the node, with `changes`. */
  header(changes: Partial<EnvelopeHeader> = {}): EnvelopeHeader {
    const now = Date.now();
    const target = this.host.target;
    return {
      version: ENVELOPE_VERSION,
      sender: this.participantId,
      recipient: target.participantId,
      messageId: newMessageId(),
      kind: MessageKind.MESSAGE_KIND_NOTICE,
      createdAtMs: now,
      expiresAtMs: now + 3_600_000,
      senderKeyId: this.keyId,
      recipientKeyId: target.keyId,
      correlationId: '',
      ...changes,
    };
  }

  /** Seals an envelope to the node; with no options, a correct Notice. */
  seal(options: SealOptions = {}): SealedEnvelope {
    const created = options.createdAtMs ?? Date.now();
    const keySet = options.keySet ?? this.#current;
    const header = this.header({
      kind: options.kind ?? MessageKind.MESSAGE_KIND_NOTICE,
      senderKeyId: keySet.keyId,
      ...(options.messageId ? { messageId: options.messageId } : {}),
      createdAtMs: created,
      expiresAtMs: options.expiresAtMs ?? created + 3_600_000,
      correlationId: options.correlationId ?? '',
      ...options.header,
    });
    const body =
      options.body ??
      Buffer.from(Notice.encode({ subject: 'conformance', text: 'a notice from the conformance suite' }).finish());
    const headerBytes = options.headerBytes ? options.headerBytes(header) : EnvelopeHeader.encode(header).finish();
    const signingSecretKey = options.signingSecretKey ?? keySet.keys.signingSecretKey;
    // With signHeader, the signature covers other header bytes than the ones sent.
    const signature = options.signHeader
      ? signEnvelope(EnvelopeHeader.encode({ ...header, ...options.signHeader }).finish(), body, signingSecretKey)
      : undefined;
    const sealed = seal({
      header: headerBytes,
      body,
      signingSecretKey,
      pairKey: options.pairKey ?? this.pairKey(keySet),
      ...(signature ? { signature } : {}),
      ...(options.nonce ? { nonce: options.nonce } : {}),
    });
    return { ...sealed, header };
  }

  /** Seals and delivers a message of `kind` with `body`; returns the envelope sent and the answer. */
  async send(
    kind: MessageKind,
    body: Uint8Array,
    options: Omit<SealOptions, 'kind' | 'body'> = {},
  ): Promise<{ sealed: SealedEnvelope; outcome: Outcome<Receipt> }> {
    const sealed = this.seal({ ...options, kind, body });
    return { sealed, outcome: await this.host.deliverRaw(sealed.bytes) };
  }

  /** What a receipt of the node about `messageId` from this peer must name. */
  receiptOf(messageId: string, digest?: Uint8Array) {
    const target = this.host.target;
    return {
      issuer: target.participantId,
      issuerKeyId: target.keyId,
      issuerSigningPublicKey: target.cardBody.signingPublicKey,
      sender: this.participantId,
      messageId,
      ...(digest ? { digest } : {}),
    };
  }

  /** The key set of this peer that `keyId` names, current or previous. */
  keySetOf(keyId: string): KeySet | undefined {
    return [this.#current, ...this.previous].find((k) => k.keyId === keyId);
  }

  /** Opens and checks an envelope the node delivered to this peer; answers as {@link responder} says. */
  async receive(raw: Buffer): Promise<Receipt> {
    const now = Date.now();
    const target = this.host.target;
    const parsed = parse(raw);
    const { header } = parsed;
    const where = `${kindName(header.kind)} ${header.messageId} from the node`;
    if (raw.length > MAX_PARSE_BYTES) this.violations.push(`${where}: ${raw.length} bytes`);
    if (header.sender !== target.participantId)
      this.violations.push(`${where}: header.sender is ${header.sender}, not ${target.participantId} (protocol 3.2)`);
    if (header.senderKeyId !== target.keyId)
      this.violations.push(
        `${where}: sender_key_id ${header.senderKeyId} is not the key id of its card (protocol 3.1)`,
      );
    const nonce = Buffer.from(parsed.envelope.nonce).toString('hex');
    if (this.#nonces.has(nonce))
      this.violations.push(
        `${where}: nonce ${nonce} used before with this pair key (protocol 3.5: every seal draws a new nonce)`,
      );
    this.#nonces.add(nonce);
    const keySet = this.keySetOf(header.recipientKeyId);
    if (header.recipientKeyId !== this.keyId)
      this.violations.push(`${where}: recipient_key_id ${header.recipientKeyId} is not ${this.keyId} (protocol 5.5)`);
    let opened;
    try {
      opened = open(parsed, this.pairKey(keySet ?? this.#current), target.cardBody.signingPublicKey);
    } catch (error) {
      this.violations.push(`${where}: ${(error as Error).message} (protocol 3.4, 3.5)`);
      throw error instanceof OpenFailure
        ? new TracenetError(ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED, error.message, { rule: error.step })
        : error;
    }
    if (Math.abs(header.createdAtMs - now) > this.host.replayWindowMs)
      this.violations.push(`${where}: created_at_ms is ${header.createdAtMs - now} ms from now (protocol 4.7, 5.5)`);
    if (header.expiresAtMs <= now) this.violations.push(`${where}: delivered after its expiry (protocol 5.5)`);
    const digestOfBody = bodyDigest(header.kind, opened.body).toString('hex');
    const seen = this.#seen.get(header.messageId);
    if (seen) {
      if (seen.bodyDigest !== digestOfBody) {
        this.violations.push(
          `${where}: the node reused message id ${header.messageId} for other content (protocol 3.2)`,
        );
        throw new TracenetError(ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED, 'message id reused', {
          field: 'header.message_id',
          rule: 'unique_message_id',
        });
      }
      const duplicate = this.signReceipt(
        header,
        parsed.digest,
        now,
        ReceiptStatus.RECEIPT_STATUS_DUPLICATE,
        undefined,
        seen.receipt,
      );
      // A copy is no new message: it is not put in the inbox, only counted among what was received.
      this.received.push({
        header,
        kind: header.kind,
        bodyBytes: opened.body,
        body: undefined,
        receivedAtMs: now,
        receipt: duplicate,
        digest: parsed.digest,
      });
      this.#wake();
      return duplicate;
    }
    const decoder = BODY_TYPES[header.kind];
    let body: unknown;
    try {
      body = decoder ? decoder.decode(opened.body) : undefined;
    } catch (error) {
      this.violations.push(`${where}: the body does not decode as ${kindName(header.kind)} (protocol 6.1)`);
      throw error;
    }
    if (!decoder)
      this.violations.push(
        `${where}: a node delivers no ${kindName(header.kind)} with Federation.Deliver (protocol 6.1, 13.1)`,
      );
    else
      for (const problem of senderProblems(header.kind, body, header.correlationId))
        this.violations.push(`${where}: ${problem}`);
    const message: ReceivedMessage = {
      header,
      kind: header.kind,
      bodyBytes: opened.body,
      body,
      receivedAtMs: now,
      receipt: Receipt.fromPartial({}),
      digest: parsed.digest,
    };
    const given = this.responder(message, parsed.digest);
    const [answer, delayMs] =
      typeof given === 'object' && 'delayMs' in given ? [given.then, given.delayMs] : [given, 0];
    // A held answer: the peer takes the envelope at once (a copy is then a duplicate) and answers late.
    const late = <T>(value: T): Promise<T> =>
      delayMs > 0 ? new Promise((r) => setTimeout(() => r(value), delayMs)) : Promise.resolve(value);
    if (answer instanceof TracenetError) {
      if (answer.retryable) {
        // A transient failure: no receipt, nothing remembered; the node is expected to retry.
        this.#record({ ...message, receipt: Receipt.fromPartial({}) });
        throw await late(answer);
      }
      // A refusal that carries a receipt sends it as it is (a rejection remembered from an earlier
      // seal, 4.6, or a broken one) and, like a custom receipt, is not remembered: the case's responder answers a retry.
      const rejected =
        answer.receipt ?? this.signReceipt(header, parsed.digest, now, ReceiptStatus.RECEIPT_STATUS_REJECTED, answer);
      if (!answer.receipt)
        this.#seen.set(header.messageId, { bodyDigest: `rejected:${digestOfBody}`, receipt: rejected });
      this.#record({ ...message, receipt: rejected });
      throw await late(
        new TracenetError(answer.code, answer.message, { field: answer.field, rule: answer.rule, receipt: rejected }),
      );
    }
    if (answer !== 'default') {
      // A custom answer (a broken receipt) is not remembered: the peer behaves as if it lost it.
      this.#record({ ...message, receipt: answer });
      return late(answer);
    }
    const receipt = this.signReceipt(header, parsed.digest, now, ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    this.#seen.set(header.messageId, { bodyDigest: digestOfBody, receipt });
    this.#record({ ...message, receipt });
    return late(receipt);
  }

  /** Opens a query of the node (as an owner would, protocol 13.6) and answers it with {@link lookupResponder}. */
  answerLookup(raw: Buffer): Buffer | TracenetError | undefined {
    const target = this.host.target;
    const parsed = parse(raw);
    const { header } = parsed;
    const where = `LOOKUP_QUERY ${header.messageId} from the node`;
    if (header.kind !== MessageKind.MESSAGE_KIND_LOOKUP_QUERY)
      this.violations.push(`${where}: kind ${kindName(header.kind)} on Federation.Lookup (protocol 13.6)`);
    if (header.sender !== target.participantId || header.recipientKeyId !== this.keyId)
      this.violations.push(`${where}: not addressed from the node to this peer's key (protocol 13.6)`);
    if (header.expiresAtMs - header.createdAtMs > 60_000)
      this.violations.push(
        `${where}: expires ${header.expiresAtMs - header.createdAtMs} ms after creation, not 60 000 (protocol 13.6)`,
      );
    const opened = open(parsed, this.pairKey(), target.cardBody.signingPublicKey);
    const query = LookupQuery.decode(opened.body);
    this.lookups.push(query);
    const answer = this.lookupResponder?.(query);
    if (answer === undefined || answer === 'silent') return undefined;
    if (answer instanceof TracenetError) return answer;
    const now = Date.now();
    const out = EnvelopeHeader.encode(
      this.header({
        kind: MessageKind.MESSAGE_KIND_LOOKUP_ANSWER,
        createdAtMs: now,
        expiresAtMs: now + 300_000,
        correlationId: this.lookupCorrelationId ?? header.messageId,
      }),
    ).finish();
    return seal({
      header: out,
      body: LookupAnswer.encode(answer).finish(),
      signingSecretKey: this.keys.signingSecretKey,
      pairKey: this.pairKey(),
    }).bytes;
  }

  /**
   * A receipt signed by this peer (protocol 4.12) for `header` and `digest`, with its current keys
   * or `keySet`. Cases use it to answer with receipts that name another envelope, another message,
   * another status or a previous key.
   */
  signReceipt(
    header: Pick<EnvelopeHeader, 'sender' | 'messageId'>,
    digest: Uint8Array,
    receivedAtMs: number,
    status: ReceiptStatus,
    failure?: TracenetError,
    original?: Receipt,
    keySet: KeySet = this.#current,
  ): Receipt {
    return signReceipt(
      {
        version: 1,
        issuer: this.participantId,
        issuerKeyId: keySet.keyId,
        sender: header.sender,
        messageId: header.messageId,
        envelopeDigest: Buffer.from(digest),
        receivedAtMs,
        status,
        errorCode: failure?.code ?? ErrorCode.ERROR_CODE_UNSPECIFIED,
        errorMessage: failure?.message ?? '',
      },
      keySet.keys.signingSecretKey,
      original,
    );
  }

  #record(message: ReceivedMessage): void {
    this.inbox.push(message);
    this.received.push(message);
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves true once `condition` holds (checked after each delivery), false after `timeoutMs`. */
  async until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (condition()) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  /**
   * Waits for the node to deliver a message of `kind` (that `where` accepts) and consumes it.
   * Fails the case after `timeoutMs` naming what arrived instead.
   */
  async expect<T = unknown>(
    kind: MessageKind,
    options: { timeoutMs?: number; where?: (m: ReceivedMessage) => boolean; context?: string } = {},
  ): Promise<ReceivedMessage & { body: T }> {
    const timeoutMs = options.timeoutMs ?? 8000;
    const matches = (m: ReceivedMessage) => m.kind === kind && (options.where?.(m) ?? true);
    if (!(await this.until(() => this.inbox.some(matches), timeoutMs))) {
      const others = this.inbox.map((m) => kindName(m.kind));
      throw new CaseFailure(
        `the node to deliver a ${kindName(kind)} to ${this.participantId} within ${timeoutMs} ms`,
        others.length > 0 ? `only ${others.join(', ')}` : 'nothing',
        options.context ?? '',
      );
    }
    const [message] = this.inbox.splice(this.inbox.findIndex(matches), 1);
    return message as ReceivedMessage & { body: T };
  }

  /** Waits `ms` and fails the case if the node delivered anything to this peer that was not consumed. */
  async expectNothing(ms: number, context = ''): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.inbox.length > 0) {
      throw new CaseFailure(
        `nothing delivered to ${this.participantId}`,
        `${this.inbox.map((m) => kindName(m.kind)).join(', ')}`,
        context,
      );
    }
  }
}

function issuedAt(keySet: KeySet): number {
  return PeerCardBody.decode(keySet.card.body).issuedAtMs;
}
