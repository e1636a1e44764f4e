import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  decryptEnvelope,
  derivePairKey,
  envelopeDigest,
  ENVELOPE_VERSION,
  generateKeyPairs,
  initDataDir,
  type KeyPairs,
  keyIdOf,
  loadIdentity,
  parseEnvelope,
  randomBytes,
  sealWithHeader,
  signPeerCard,
  signReceipt,
  type SealedEnvelope,
  verifyEnvelopeSignature,
} from '@tracenet/node';
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
  Receipt,
  ReceiptStatus,
  TracenetError,
} from '@tracenet/proto';
import { BODY_TYPES } from './bodies.js';
import { CaseFailure, outcomeOf, type Outcome } from './check.js';
import { senderProblems } from './sender-rules.js';
import type { Target } from './target.js';

/** Replay window the suite assumes of the node under test (protocol 4: default 5 minutes). */
export const DEFAULT_REPLAY_WINDOW_MS = 300_000;


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
}

/** How a fake peer answers a Deliver: the default is a valid ACCEPTED receipt. */
export type DeliverResponder = (message: ReceivedMessage, digest: Buffer) => Receipt | TracenetError | 'default';

const Generic = makeGenericClientConstructor({}, 'Federation');

/**
 * The suite's side of the wire: one gRPC Federation server (TLS) that every fake peer of a run
 * advertises, and one client to the node under test that trusts only the certificate in its card.
 * Fake peers share the server and its certificate; an incoming envelope is routed to the fake peer
 * its header names as recipient.
 */
export class PeerHost {
  readonly #peers = new Map<string, FakePeer>();
  readonly #server: Server;
  readonly #client: Client;
  readonly #workDir: string;
  readonly #used = new Set<string>();
  /** Problems with what the node sent that no fake peer could take (unknown recipient, junk). */
  readonly strays: string[] = [];

  private constructor(
    readonly target: Target,
    readonly address: string,
    readonly tls: { certificatePem: string; privateKeyPem: string; certificateDer: Buffer },
    server: Server,
    workDir: string,
    readonly replayWindowMs: number,
    taken: Iterable<string>,
  ) {
    this.#server = server;
    this.#workDir = workDir;
    for (const id of taken) this.#used.add(id);
    // It presents the certificate that every fake peer's card names: the node admits the connection once it pinned one of them (protocol 2.5).
    const presented = credentials.createSsl(Buffer.from(target.tlsCertificatePem), Buffer.from(tls.privateKeyPem), Buffer.from(tls.certificatePem), { checkServerIdentity: () => undefined });
    this.#client = new Generic(target.federation, presented, {
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
      'grpc.ssl_target_name_override': 'tracenet-peer',
      'grpc.enable_retries': 0,
      // A handshake refused before any fake peer was pinned is tried again soon after.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
  }

  /** Starts the shared Federation server on 127.0.0.1 (port 0) and connects to the node under test. */
  static async start(target: Target, options: { replayWindowMs?: number } = {}): Promise<PeerHost> {
    const workDir = await mkdtemp(join(tmpdir(), 'tracenet-conformance-peers-'));
    // The TLS identity (certificate and key) of the shared server, made by the reference code.
    await initDataDir({ dataDir: join(workDir, 'tls'), participantId: 'XXX', endpoints: ['127.0.0.1:1'], nowMs: Date.now() });
    const identity = await loadIdentity(join(workDir, 'tls'));
    const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    const pinned = await target.authority.call('listPeers', {});
    // The handlers reach the host once it exists (it needs the bound port first).
    const ref: { host?: PeerHost } = {};
    const handlers = {
      deliver: (call: ServerUnaryCall<Buffer, Receipt>, callback: sendUnaryData<Receipt>) => {
        const host = ref.host;
        if (!host) return callback({ code: 14, details: 'not ready' } as ServiceError);
        try {
          callback(null, host.#deliver(call.request));
        } catch (error) {
          const failure = TracenetError.from(error);
          callback(failure.toStatus() as ServiceError);
        }
      },
      lookup: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        const host = ref.host;
        const reply = (answer: Buffer | TracenetError | undefined) => {
          if (answer instanceof TracenetError) callback(answer.toStatus() as ServiceError);
          else if (answer) callback(null, answer);
          // undefined: no answer before the caller's deadline; the call is closed a while later.
          else setTimeout(() => callback(new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the fake peer stayed silent').toStatus() as ServiceError), 5000).unref();
        };
        try {
          const recipient = EnvelopeHeader.decode(parseEnvelope(call.request, 64 * 1024 * 1024).envelope.header).recipient;
          const peer = host?.peer(recipient);
          if (!peer?.lookupResponder) {
            host?.strays.push(`the node called Federation.Lookup on ${recipient}, which no case asked to answer lookups`);
            reply(new TracenetError(ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED, 'this fake peer answers no lookups', { field: 'header.kind', rule: 'peer_policy' }));
            return;
          }
          void Promise.resolve(peer.answerLookup(call.request)).then(reply, (error: unknown) => reply(TracenetError.from(error)));
        } catch (error) {
          reply(TracenetError.from(error));
        }
      },
      getPeerCard: (_call: ServerUnaryCall<unknown, GetPeerCardResponse>, callback: sendUnaryData<GetPeerCardResponse>) => callback(null, { card: undefined }),
    };
    server.addService(
      {
        deliver: { ...FederationService.deliver, requestDeserialize: (bytes: Buffer): Buffer => bytes },
        lookup: { ...FederationService.lookup, requestDeserialize: (bytes: Buffer): Buffer => bytes, responseSerialize: (bytes: Buffer): Buffer => bytes },
        getPeerCard: FederationService.getPeerCard,
      },
      handlers,
    );
    const credentialsOfServer = ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(identity.tlsCertificatePem), private_key: Buffer.from(identity.tlsPrivateKeyPem) }], false);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentialsOfServer, (error, p) => (error ? reject(error) : resolve(p))));
    const host = new PeerHost(
      target,
      `127.0.0.1:${port}`,
      { certificatePem: identity.tlsCertificatePem, privateKeyPem: identity.tlsPrivateKeyPem, certificateDer: identity.tlsCertificateDer },
      server,
      workDir,
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
  createPeer(options: { participantId?: string; kind?: ParticipantKind; validForMs?: number; keys?: KeyPairs } = {}): FakePeer {
    const kind = options.kind ?? ParticipantKind.PARTICIPANT_KIND_STATE;
    const participantId = options.participantId ?? this.freshId(kind);
    const keys = options.keys ?? generateKeyPairs();
    const peer = new FakePeer(this, participantId, kind, keys, options.validForMs ?? 86_400_000);
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

  /** Sends raw bytes to the node's `Federation.Deliver`; the answer as received. */
  deliverRaw(bytes: Uint8Array, deadlineMs = 15_000): Promise<Outcome<Receipt>> {
    return outcomeOf(
      new Promise<Receipt>((resolve, reject) => {
        this.#client.makeUnaryRequest(
          FederationService.deliver.path,
          (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
          (b: Buffer) => Receipt.decode(b),
          bytes,
          new Metadata(),
          { deadline: Date.now() + deadlineMs },
          (error: ServiceError | null, receipt?: Receipt) => (error ? reject(error) : receipt ? resolve(receipt) : reject(new Error('empty answer'))),
        );
      }),
    );
  }

  /** Sends raw bytes to the node's `Federation.Lookup`; the raw answer envelope bytes as received. */
  lookupRaw(bytes: Uint8Array, deadlineMs = 15_000): Promise<Outcome<Buffer>> {
    return outcomeOf(
      new Promise<Buffer>((resolve, reject) => {
        this.#client.makeUnaryRequest(
          FederationService.lookup.path,
          (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
          (b: Buffer) => b,
          bytes,
          new Metadata(),
          { deadline: Date.now() + deadlineMs },
          (error: ServiceError | null, answer?: Buffer) => (error ? reject(error) : answer ? resolve(answer) : reject(new Error('empty answer'))),
        );
      }),
    );
  }

  /** Calls the node's `Federation.GetPeerCard`. */
  getPeerCard(): Promise<Outcome<GetPeerCardResponse>> {
    return outcomeOf(
      new Promise<GetPeerCardResponse>((resolve, reject) => {
        this.#client.makeUnaryRequest(
          FederationService.getPeerCard.path,
          () => Buffer.alloc(0),
          (b: Buffer) => GetPeerCardResponse.decode(b),
          {},
          new Metadata(),
          { deadline: Date.now() + 10_000 },
          (error: ServiceError | null, answer?: GetPeerCardResponse) => (error ? reject(error) : answer ? resolve(answer) : reject(new Error('empty answer'))),
        );
      }),
    );
  }

  #deliver(raw: Buffer): Receipt {
    let recipient: string | undefined;
    try {
      recipient = EnvelopeHeader.decode(parseEnvelope(raw, 64 * 1024 * 1024).envelope.header).recipient;
    } catch (error) {
      this.strays.push(`the node delivered an envelope that does not parse: ${(error as Error).message}`);
      throw error;
    }
    const peer = this.#peers.get(recipient);
    if (!peer) {
      this.strays.push(`the node delivered an envelope to ${recipient}, which is no fake peer of this run`);
      throw new TracenetError(ErrorCode.ERROR_CODE_WRONG_RECIPIENT, `no fake peer ${recipient}`, { field: 'header.recipient', rule: 'recipient' });
    }
    return peer.receive(raw);
  }

  /** Stops the server and the client; deletes the TLS material. Idempotent. */
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
    await rm(this.#workDir, { recursive: true, force: true });
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
  /** Sign a different header than the one sent (the signature then covers other bytes). */
  readonly signHeader?: Partial<EnvelopeHeader>;
  /** Sign with this Ed25519 secret key instead of the peer's own. */
  readonly signingSecretKey?: Uint8Array;
  /** Encrypt under this pair key instead of the peer–node pair key. */
  readonly pairKey?: Uint8Array;
}

/** A fresh message id: 128 random bits, base64url (protocol 3.2). */
export function newMessageId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * A participant played by the suite: its own keys and signed card, pinned on the node under test
 * through the Authority API. It seals envelopes to the node (correct ones, and every kind of
 * broken one), and receives what the node delivers to it: every envelope is opened and checked
 * (addressing, AEAD, signature, time) and answered with a signed receipt. Anything it receives
 * that no case consumed is a failure of the case that owns it (Complement's rule).
 */
export class FakePeer {
  readonly keyId: string;
  readonly card: PeerCard;
  readonly pairKey: Buffer;
  /** Messages received and not yet consumed by {@link expect}. */
  readonly inbox: ReceivedMessage[] = [];
  /** Everything received, consumed or not. */
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
  /** Queries the node sent to this peer. */
  readonly lookups: LookupQuery[] = [];
  readonly #seen = new Map<string, { bodyDigest: string; receipt: Receipt }>();
  readonly #waiters = new Set<() => void>();

  constructor(
    readonly host: PeerHost,
    readonly participantId: string,
    readonly kind: ParticipantKind,
    readonly keys: KeyPairs,
    validForMs: number,
  ) {
    this.keyId = keyIdOf(keys.signingPublicKey, keys.encryptionPublicKey);
    const now = Date.now();
    this.card = signPeerCard(
      {
        version: 1,
        participantId,
        kind,
        displayName: `conformance ${participantId}`,
        endpoints: [host.address],
        signingPublicKey: keys.signingPublicKey,
        encryptionPublicKey: keys.encryptionPublicKey,
        keyId: this.keyId,
        tlsCertificate: host.tls.certificateDer,
        tlsCertificateSha256: createHash('sha256').update(host.tls.certificateDer).digest(),
        validFromMs: now - 60_000,
        validUntilMs: now + validForMs,
        issuedAtMs: now,
      },
      keys.signingSecretKey,
    );
    this.pairKey = derivePairKey(keys.encryptionSecretKey, keys.encryptionPublicKey, host.target.cardBody.encryptionPublicKey);
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
  seal(options: SealOptions = {}): SealedEnvelope & { header: EnvelopeHeader } {
    const created = options.createdAtMs ?? Date.now();
    const header = this.header({
      kind: options.kind ?? MessageKind.MESSAGE_KIND_NOTICE,
      ...(options.messageId ? { messageId: options.messageId } : {}),
      createdAtMs: created,
      expiresAtMs: options.expiresAtMs ?? created + 3_600_000,
      correlationId: options.correlationId ?? '',
      ...options.header,
    });
    const body = options.body ?? Buffer.from(Notice.encode({ subject: 'conformance', text: 'a notice from the conformance suite' }).finish());
    const headerBytes = EnvelopeHeader.encode(header).finish();
    const signingKey = options.signingSecretKey ?? this.keys.signingSecretKey;
    let signature: Uint8Array | undefined;
    if (options.signHeader) {
      // Sign other header bytes: what the signature covers then differs from what is sent.
      const other = EnvelopeHeader.encode({ ...header, ...options.signHeader }).finish();
      signature = signDetached(other, body, signingKey);
    }
    const sealed = signature
      ? sealWithHeader(headerBytes, body, signingKey, options.pairKey ?? this.pairKey, signature)
      : sealWithHeader(headerBytes, body, signingKey, options.pairKey ?? this.pairKey);
    return { ...sealed, header };
  }

  /** Seals and delivers a message of `kind` with `body`; returns the envelope sent and the answer. */
  async send(kind: MessageKind, body: Uint8Array, options: Omit<SealOptions, 'kind' | 'body'> = {}): Promise<{ sealed: SealedEnvelope & { header: EnvelopeHeader }; outcome: Outcome<Receipt> }> {
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

  /** Opens and checks an envelope the node delivered to this peer; answers with a receipt. */
  receive(raw: Buffer): Receipt {
    const now = Date.now();
    const target = this.host.target;
    const parsed = parseEnvelope(raw, 64 * 1024 * 1024);
    const { header } = parsed;
    const where = `${kindName(header.kind)} ${header.messageId} from the node`;
    if (header.sender !== target.participantId) this.violations.push(`${where}: header.sender is ${header.sender}, not ${target.participantId} (protocol 3.2)`);
    if (header.senderKeyId !== target.keyId) this.violations.push(`${where}: sender_key_id ${header.senderKeyId} is not the key id of its card (protocol 3.1)`);
    if (header.recipientKeyId !== this.keyId) this.violations.push(`${where}: recipient_key_id ${header.recipientKeyId} is not ${this.keyId} (protocol 5.5)`);
    let sealed;
    try {
      sealed = decryptEnvelope(parsed, this.pairKey);
      verifyEnvelopeSignature(parsed, sealed, target.cardBody.signingPublicKey);
    } catch (error) {
      this.violations.push(`${where}: ${(error as Error).message} (protocol 3.4, 3.5)`);
      throw error;
    }
    if (Math.abs(header.createdAtMs - now) > this.host.replayWindowMs) this.violations.push(`${where}: created_at_ms is ${header.createdAtMs - now} ms from now (protocol 4.7, 5.5)`);
    if (header.expiresAtMs <= now) this.violations.push(`${where}: delivered after its expiry (protocol 5.5)`);
    const bodyDigest = createHash('sha256').update(Buffer.from([header.kind])).update(sealed.body).digest('hex');
    const seen = this.#seen.get(header.messageId);
    if (seen) {
      if (seen.bodyDigest !== bodyDigest) {
        this.violations.push(`${where}: the node reused message id ${header.messageId} for other content (protocol 3.2)`);
        throw new TracenetError(ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED, 'message id reused', { field: 'header.message_id', rule: 'unique_message_id' });
      }
      const duplicate = this.#receipt(header, parsed.digest, now, ReceiptStatus.RECEIPT_STATUS_DUPLICATE);
      duplicate.original = seen.receipt;
      return duplicate;
    }
    const decoder = BODY_TYPES[header.kind];
    let body: unknown;
    try {
      body = decoder ? decoder.decode(sealed.body) : undefined;
    } catch (error) {
      this.violations.push(`${where}: the body does not decode as ${kindName(header.kind)} (protocol 6.1)`);
      throw error;
    }
    if (!decoder) this.violations.push(`${where}: a node delivers no ${kindName(header.kind)} with Federation.Deliver (protocol 6.1, 13.1)`);
    else for (const problem of senderProblems(header.kind, body, header.correlationId)) this.violations.push(`${where}: ${problem}`);
    const message: ReceivedMessage = { header, kind: header.kind, bodyBytes: sealed.body, body, receivedAtMs: now, receipt: Receipt.fromPartial({}) };
    const answer = this.responder(message, parsed.digest);
    if (answer instanceof TracenetError) {
      const rejected = this.#receipt(header, parsed.digest, now, ReceiptStatus.RECEIPT_STATUS_REJECTED, answer);
      this.#seen.set(header.messageId, { bodyDigest: `rejected:${bodyDigest}`, receipt: rejected });
      this.#record({ ...message, receipt: rejected });
      throw new TracenetError(answer.code, answer.message, { field: answer.field, rule: answer.rule, receipt: rejected });
    }
    if (answer !== 'default') {
      // A custom answer (a broken receipt) is not remembered: the peer behaves as if it lost it.
      this.#record({ ...message, receipt: answer });
      return answer;
    }
    const receipt = this.#receipt(header, parsed.digest, now, ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    this.#seen.set(header.messageId, { bodyDigest, receipt });
    this.#record({ ...message, receipt });
    return receipt;
  }

  /** Opens a query of the node (as an owner would, protocol 13.6) and answers it with {@link lookupResponder}. */
  answerLookup(raw: Buffer): Buffer | TracenetError | undefined {
    const target = this.host.target;
    const parsed = parseEnvelope(raw, 64 * 1024 * 1024);
    const { header } = parsed;
    const where = `LOOKUP_QUERY ${header.messageId} from the node`;
    if (header.kind !== MessageKind.MESSAGE_KIND_LOOKUP_QUERY) this.violations.push(`${where}: kind ${kindName(header.kind)} on Federation.Lookup (protocol 13.6)`);
    if (header.sender !== target.participantId || header.recipientKeyId !== this.keyId) this.violations.push(`${where}: not addressed from the node to this peer's key (protocol 13.6)`);
    if (header.expiresAtMs - header.createdAtMs > 60_000) this.violations.push(`${where}: expires ${header.expiresAtMs - header.createdAtMs} ms after creation, not 60 000 (protocol 13.6)`);
    const sealed = decryptEnvelope(parsed, this.pairKey);
    verifyEnvelopeSignature(parsed, sealed, target.cardBody.signingPublicKey);
    const query = LookupQuery.decode(sealed.body);
    this.lookups.push(query);
    const answer = this.lookupResponder?.(query);
    if (answer === undefined || answer === 'silent') return undefined;
    if (answer instanceof TracenetError) return answer;
    const now = Date.now();
    const out = EnvelopeHeader.encode(
      this.header({ kind: MessageKind.MESSAGE_KIND_LOOKUP_ANSWER, createdAtMs: now, expiresAtMs: now + 300_000, correlationId: header.messageId }),
    ).finish();
    return sealWithHeader(out, LookupAnswer.encode(answer).finish(), this.keys.signingSecretKey, this.pairKey).bytes;
  }

  /** A receipt signed by this peer (protocol 4.12). */
  #receipt(header: EnvelopeHeader, digest: Buffer, receivedAtMs: number, status: ReceiptStatus, failure?: TracenetError): Receipt {
    return signReceipt(
      {
        version: 1,
        issuer: this.participantId,
        issuerKeyId: this.keyId,
        sender: header.sender,
        messageId: header.messageId,
        envelopeDigest: digest,
        receivedAtMs,
        status,
        errorCode: failure?.code ?? ErrorCode.ERROR_CODE_UNSPECIFIED,
        errorMessage: failure?.message ?? '',
      },
      this.keys.signingSecretKey,
    );
  }

  #record(message: ReceivedMessage): void {
    this.inbox.push(message);
    this.received.push(message);
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * Waits for the node to deliver a message of `kind` (that `where` accepts) and consumes it.
   * Fails the case after `timeoutMs` naming what arrived instead.
   */
  async expect<T = unknown>(kind: MessageKind, options: { timeoutMs?: number; where?: (m: ReceivedMessage) => boolean; context?: string } = {}): Promise<ReceivedMessage & { body: T }> {
    const timeoutMs = options.timeoutMs ?? 8000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((m) => m.kind === kind && (options.where?.(m) ?? true));
      if (index >= 0) {
        const [message] = this.inbox.splice(index, 1);
        return message as ReceivedMessage & { body: T };
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const others = this.inbox.map((m) => kindName(m.kind));
        throw new CaseFailure(
          `the node to deliver a ${kindName(kind)} to ${this.participantId} within ${timeoutMs} ms`,
          others.length > 0 ? `only ${others.join(', ')}` : 'nothing',
          options.context ?? '',
        );
      }
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

  /** Waits `ms` and fails the case if the node delivered anything to this peer that was not consumed. */
  async expectNothing(ms: number, context = ''): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.inbox.length > 0) {
      throw new CaseFailure(`nothing delivered to ${this.participantId}`, `${this.inbox.map((m) => kindName(m.kind)).join(', ')}`, context);
    }
  }
}

/** Ed25519 signature of a header and body as protocol 3.4 defines it. */
function signDetached(header: Uint8Array, body: Uint8Array, signingSecretKey: Uint8Array): Uint8Array {
  // sealWithHeader signs when no signature is given; recover that signature by opening a seal.
  const probeKey = Buffer.alloc(32, 7);
  const sealed = sealWithHeader(header, body, signingSecretKey, probeKey);
  const parsed = { envelope: sealed.envelope, header: EnvelopeHeader.decode(header), digest: envelopeDigest(sealed.envelope) };
  return decryptEnvelope(parsed, probeKey).signature;
}
