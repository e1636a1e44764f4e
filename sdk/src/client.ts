import { Client, type ClientUnaryCall, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  AccessService,
  AuthorityService,
  CasesService,
  ErrorCode,
  type ImportRecordsProgress,
  type ImportRecordsRequest,
  LookupsService,
  type NodeEvent,
  RecordsService,
  TracenetError,
} from '@tracenet/proto';
import { importRecords, type ImportRecordsOptions, type ImportSource, type ImportSummary } from './import-records.js';

/** Options every call takes. */
export interface CallOptions {
  /** Time budget of the whole call, retries included (default: the client's `defaultDeadlineMs`). */
  readonly deadlineMs?: number;
  /** Aborting cancels the gRPC call; the promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

/** When and how often an idempotent call is tried again. */
export interface RetryOptions {
  /** Attempts after the first one (default 3; 0 turns retries off). */
  readonly maxRetries?: number;
  /** Delay before the first retry, doubled each time with jitter (default 100 ms). */
  readonly initialDelayMs?: number;
  /** Upper bound of one delay (default 2 000 ms). */
  readonly maxDelayMs?: number;
}

/** How to reach a node's Authority API. */
export interface ConnectOptions {
  /** `host:port` of the node's Authority port (plaintext on loopback, TLS elsewhere: docs/protocol.md 7.1). */
  readonly address: string;
  /**
   * An officer's session token (`tns_…`, from {@link signIn} or `Access.Login`): the calls act
   * as that officer, with its roles, until the session ends (docs/protocol.md 7.1).
   */
  readonly sessionToken?: string;
  /** A named client's API key (`tnk_<key id>_<secret>`, from `tracenet clients add`): the calls act as that client. */
  readonly apiKey?: string;
  /**
   * Any bearer token as it is: the bootstrap token `<data>/keys/authority.token`, which a node
   * accepts only until its first administrator exists (setup mode), or a session token or API key.
   * Give exactly one of `sessionToken`, `apiKey` and `token`.
   */
  readonly token?: string;
  /** TLS of a port that is not on loopback (`authority.tls` of the node); plaintext when absent. */
  readonly tls?: AuthorityTlsOptions;
  /** Deadline of a call that gives none (default 30 000 ms). */
  readonly defaultDeadlineMs?: number;
  readonly retries?: RetryOptions;
}

/**
 * How to reach an Authority port served over TLS (docs/protocol.md 7.1).
 *
 * @example
 * ```ts
 * const client = connect({ address: 'node.example.org:7444', token, tls: { ca: readFileSync('authority-ca.pem') } });
 * ```
 */
export interface AuthorityTlsOptions {
  /** PEM certificates to trust for the node's certificate (its CA, or a self-signed certificate itself); the system's CAs when absent. */
  readonly ca?: string | Buffer;
  /** PEM client certificate (chain) and its key, for a port that requires client certificates (`authority.tls.clientCa`). */
  readonly certificate?: string | Buffer;
  readonly privateKey?: string | Buffer;
  /** The name the node's certificate is checked against, when the address's host is not in it. */
  readonly serverName?: string;
}

/** Options of {@link TracenetClient.events}. */
export interface EventsOptions {
  /** Yield the events after this sequence (0: every stored event). */
  readonly afterSequence?: number;
  /** Aborting ends the iteration quietly. */
  readonly signal?: AbortSignal;
  /** Reconnection delays after the node went away (default 100 ms doubling up to 2 000 ms, forever). */
  readonly reconnect?: Omit<RetryOptions, 'maxRetries'>;
}

interface MethodDefinition {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: never) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => unknown;
}
type RequestOf<D> = D extends { requestSerialize: (value: infer R) => Buffer } ? R : never;
type ResponseOf<D> = D extends { responseDeserialize: (bytes: Buffer) => infer R } ? R : never;

/**
 * The unary calls of one service as promise-returning methods, typed from its generated
 * definition. Streaming calls are not part of it: they have methods of their own
 * ({@link TracenetClient.events}, {@link RecordsClient.importRecords}).
 */
export type ServiceClient<S> = {
  readonly [K in keyof S as S[K] extends { requestStream: false; responseStream: false } ? K : never]: (
    request: RequestOf<S[K]>,
    options?: CallOptions,
  ) => Promise<ResponseOf<S[K]>>;
};

/** The Records service: its unary calls, and the streaming import. */
export interface RecordsClient extends ServiceClient<typeof RecordsService> {
  /**
   * Imports a CSV or JSON Lines file of weapon records (docs/records.md section 5) through the
   * streaming `ImportRecords` call, as `tracenet records import` does: the file goes to the node in
   * chunks as the stream drains, so memory stays flat; good rows are imported and bad rows come
   * back with their line number, field and reason. Resolves with the summary once the node has
   * processed the whole file.
   *
   * Unlike the unary calls it is never retried (a second attempt would import the rows again), has
   * no deadline unless `deadlineMs` is given, and does not wait for a node that is down: it fails
   * at once with UNAVAILABLE, nothing sent. Aborting `signal` (or `close()`) cancels the stream:
   * the node stops reading, but rows it received before may have been imported. It rejects with a
   * TracenetError when the node refuses the import itself (a CSV header it cannot read is
   * INVALID_FIELD, field `header`), with `signal.reason` when aborted, and with the source's own
   * error when reading the source fails.
   *
   * @example
   * ```ts
   * import { createReadStream } from 'node:fs';
   * const summary = await client.records.importRecords(createReadStream('registry.csv'), {
   *   format: 'csv',
   *   onProgress: (p) => console.log(`${p.pass}: ${p.rowsRead} rows, ${p.rowsRejected} rejected`),
   * });
   * for (const e of summary.errors) console.log(`line ${e.line}: ${e.field}: ${e.reason}`);
   * // Nothing unless every row is good; a function lets the check and the import each read the file.
   * const strict = await client.records.importRecords(() => createReadStream('registry.csv'), { format: 'csv', strict: true });
   * if (strict.refused) console.log('nothing imported', strict.errors);
   * ```
   */
  importRecords(source: ImportSource, options: ImportRecordsOptions): Promise<ImportSummary>;
}

/** A connection to one node's Authority port with one namespace per service. */
export interface TracenetClient {
  readonly authority: ServiceClient<typeof AuthorityService>;
  /** Sign-out, the caller's identity, officer accounts and client API keys (docs/protocol.md 7.6). */
  readonly access: ServiceClient<typeof AccessService>;
  readonly cases: ServiceClient<typeof CasesService>;
  readonly records: RecordsClient;
  readonly lookups: ServiceClient<typeof LookupsService>;
  /**
   * The node's events (docs/protocol.md 7.3) in sequence order, from `afterSequence` on, then live.
   * When the node goes away (UNAVAILABLE, a restart) the iterator reconnects with backoff and
   * resumes after the last sequence it yielded: no event is lost or repeated. Other errors
   * (UNAUTHORIZED, ...) are thrown as TracenetErrors. `break`, `signal` or `close()` end it.
   */
  events(options?: EventsOptions): AsyncIterable<NodeEvent>;
  /** Cancels open event streams and imports (those reject with UNAVAILABLE) and closes the channel. Idempotent. */
  close(): void;
}

/**
 * Every call waits for a connection until its deadline (gRPC wait-for-ready), so a node that is
 * restarting delays a call rather than failing it. A call that reached the node and failed with a
 * retryable code is sent again only when it is one of these:
 *
 * Calls that may be sent twice with the same effect as once, and are therefore retried: reads,
 * and writes that replace a whole value (`addPeer` pins the same card, `setPeerPolicy` stores the
 * whole policy, `putRecord` replaces the record, `reportRecord`/`clearReport` set or clear a report,
 * `loadAliases` replaces the alias table). Every other call (`sendNotice`, `createCase`, each
 * workflow step, `lookup`, ...) queues a message or moves a case: a retry after a lost reply could
 * do it twice, so these are never retried — the caller decides, e.g. after reading the case.
 */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  '/tracenet.v1.Authority/GetNodeInfo',
  '/tracenet.v1.Authority/AddPeer',
  '/tracenet.v1.Authority/ListPeers',
  '/tracenet.v1.Authority/ListMessages',
  '/tracenet.v1.Authority/GetDeliveryStats',
  '/tracenet.v1.Authority/VerifyAudit',
  '/tracenet.v1.Authority/ListAudit',
  '/tracenet.v1.Authority/SetPeerPolicy',
  '/tracenet.v1.Authority/GetPeerPolicy',
  '/tracenet.v1.Cases/ListCases',
  '/tracenet.v1.Cases/GetCase',
  '/tracenet.v1.Cases/GetTraceChain',
  '/tracenet.v1.Records/PutRecord',
  '/tracenet.v1.Records/GetRecord',
  '/tracenet.v1.Records/SearchRecords',
  '/tracenet.v1.Records/ReportRecord',
  '/tracenet.v1.Records/ClearReport',
  '/tracenet.v1.Records/LoadAliases',
  '/tracenet.v1.Lookups/ListHits',
  '/tracenet.v1.Access/WhoAmI',
  '/tracenet.v1.Access/ListOfficers',
  '/tracenet.v1.Access/ListClients',
]);

/**
 * The bearer token of `options`: exactly one of `sessionToken` (`tns_…`), `apiKey` (`tnk_…`) and
 * `token`. Anything else is INVALID_FIELD before a call is made, naming the option.
 */
function bearerOf(options: ConnectOptions): string {
  const given = (['sessionToken', 'apiKey', 'token'] as const).filter((k) => options[k] !== undefined);
  if (given.length !== 1)
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'give exactly one of sessionToken, apiKey and token', {
      field: given.length === 0 ? 'token' : (given[1] ?? 'token'),
      rule: 'one_credential',
    });
  if (options.sessionToken !== undefined && !/^tns_[A-Za-z0-9_-]{43}$/.test(options.sessionToken))
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'sessionToken is not a session token (tns_…)', {
      field: 'sessionToken',
      rule: 'session_token',
    });
  if (options.apiKey !== undefined && !/^tnk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/.test(options.apiKey))
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'apiKey is not an API key (tnk_<key id>_<secret>)', {
      field: 'apiKey',
      rule: 'api_key',
    });
  return options.sessionToken ?? options.apiKey ?? options.token ?? '';
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Exponential backoff with full jitter in [delay/2, delay]. */
function backoff(attempt: number, initialDelayMs: number, maxDelayMs: number): number {
  const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** attempt);
  return delay / 2 + Math.random() * (delay / 2);
}

/**
 * Connects to a node's Authority API. Every method returns a promise, takes `{ deadlineMs, signal }`,
 * rejects with a {@link TracenetError} decoded from the status details (`err.code`, `err.field`,
 * `err.rule`, `err.violations`), and is retried with backoff only when the error is retryable
 * (`err.retryable`, docs/errors.md) and the call is in {@link IDEMPOTENT_METHODS}.
 *
 * @example
 * ```ts
 * const client = connect({ address: '127.0.0.1:7444', token });
 * const { participantId } = await client.authority.getNodeInfo({}, { deadlineMs: 2_000 });
 * for await (const event of client.events({ afterSequence: 0 })) console.log(event.sequence, event.summary);
 * client.close();
 * ```
 */
export function connect(options: ConnectOptions): TracenetClient {
  const bearer = bearerOf(options);
  const defaultDeadlineMs = options.defaultDeadlineMs ?? 30_000;
  const maxRetries = options.retries?.maxRetries ?? 3;
  const initialDelayMs = options.retries?.initialDelayMs ?? 100;
  const maxDelayMs = options.retries?.maxDelayMs ?? 2_000;
  // Short reconnect backoff of the channel itself, so that a restarted node is found again quickly.
  const { tls } = options;
  const pem = (value: string | Buffer | undefined) => (value === undefined ? null : Buffer.from(value));
  const channel = tls
    ? credentials.createSsl(pem(tls.ca), pem(tls.privateKey), pem(tls.certificate))
    : credentials.createInsecure();
  const grpc = new Client(options.address, channel, {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2_000,
    ...(tls?.serverName !== undefined ? { 'grpc.ssl_target_name_override': tls.serverName } : {}),
  });
  /** Open streaming calls, cancelled by `close()`. */
  const streams = new Set<{ cancel(): void }>();
  let closed = false;
  const closing = new AbortController();

  // Wait-for-ready: a call made while the node is (re)starting waits for the connection until its
  // deadline instead of failing at once. Nothing has been sent then, so this is safe for every call
  // that has a deadline; an import, which may have none, fails at once instead.
  const metadata = (waitForReady = true) => {
    const m = new Metadata({ waitForReady });
    // Sign-in (signIn) needs no token: none is sent then.
    if (bearer !== '') m.set('authorization', `Bearer ${bearer}`);
    return m;
  };

  const attempt = <Req, Res>(
    definition: MethodDefinition,
    request: Req,
    deadline: number,
    signal: AbortSignal | undefined,
  ) =>
    new Promise<Res>((resolve, reject) => {
      let call: ClientUnaryCall | undefined = undefined;
      const onAbort = () => call?.cancel();
      call = grpc.makeUnaryRequest<Req, Res>(
        definition.path,
        (value) => definition.requestSerialize(value as never),
        (bytes) => definition.responseDeserialize(bytes) as Res,
        request,
        metadata(),
        { deadline },
        (error: ServiceError | null, response?: Res) => {
          signal?.removeEventListener('abort', onAbort);
          if (signal?.aborted) reject(signal.reason);
          else if (error) reject(TracenetError.from(error));
          else resolve(response as Res);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  const unary = async <Req, Res>(
    definition: MethodDefinition,
    request: Req,
    callOptions: CallOptions = {},
  ): Promise<Res> => {
    const { signal } = callOptions;
    signal?.throwIfAborted();
    if (closed) throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the client is closed');
    const deadline = Date.now() + (callOptions.deadlineMs ?? defaultDeadlineMs);
    const retries = IDEMPOTENT_METHODS.has(definition.path) ? maxRetries : 0;
    for (let n = 0; ; n += 1) {
      try {
        return await attempt<Req, Res>(definition, request, deadline, signal);
      } catch (error) {
        if (signal?.aborted || !(error instanceof TracenetError) || !error.retryable || n >= retries) throw error;
        // DEADLINE_EXCEEDED is retryable in general, but this call's budget is spent.
        const delay = backoff(n, initialDelayMs, maxDelayMs);
        if (error.code === ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED || Date.now() + delay >= deadline) throw error;
        await sleep(delay, signal);
        signal?.throwIfAborted();
      }
    }
  };

  const service = <S extends object>(definitions: S): ServiceClient<S> => {
    const methods: Record<string, unknown> = {};
    for (const [name, definition] of Object.entries(definitions) as Array<[string, MethodDefinition]>) {
      if (definition.requestStream || definition.responseStream) continue;
      methods[name] = (request: unknown, callOptions?: CallOptions) => unary(definition, request, callOptions);
    }
    return Object.freeze(methods) as ServiceClient<S>;
  };

  async function* events(eventsOptions: EventsOptions = {}): AsyncGenerator<NodeEvent, void, undefined> {
    const signal = eventsOptions.signal ? AbortSignal.any([eventsOptions.signal, closing.signal]) : closing.signal;
    const initial = eventsOptions.reconnect?.initialDelayMs ?? initialDelayMs;
    const max = eventsOptions.reconnect?.maxDelayMs ?? maxDelayMs;
    let last = eventsOptions.afterSequence ?? 0;
    let failures = 0;
    while (!signal.aborted) {
      const definition = AuthorityService.watchEvents;
      const call = grpc.makeServerStreamRequest<{ afterSequence: number; liveOnly: boolean }, NodeEvent>(
        definition.path,
        (value) => definition.requestSerialize(value),
        (bytes) => definition.responseDeserialize(bytes),
        { afterSequence: last, liveOnly: false },
        metadata(),
        {},
      );
      streams.add(call);
      const onAbort = () => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const event of call as AsyncIterable<NodeEvent>) {
          failures = 0;
          // The node sends each event once per stream; across streams `last` keeps them unique.
          if (event.sequence <= last) continue;
          last = event.sequence;
          yield event;
        }
        // The node ended the stream (an orderly stop): connect again.
      } catch (error) {
        if (signal.aborted) return;
        const failure = TracenetError.from(error);
        if (!failure.retryable) throw failure;
      } finally {
        signal.removeEventListener('abort', onAbort);
        streams.delete(call);
        call.cancel();
      }
      await sleep(backoff(failures, initial, max), signal);
      failures += 1;
    }
  }

  const openImport = (deadline: number | undefined) => {
    const definition = RecordsService.importRecords;
    const call = grpc.makeBidiStreamRequest<ImportRecordsRequest, ImportRecordsProgress>(
      definition.path,
      (value) => definition.requestSerialize(value),
      (bytes) => definition.responseDeserialize(bytes),
      metadata(false),
      deadline === undefined ? {} : { deadline },
    );
    streams.add(call);
    call.on('status', () => streams.delete(call));
    return call;
  };

  const records: RecordsClient = Object.freeze({
    ...service(RecordsService),
    importRecords: async (source: ImportSource, importOptions: ImportRecordsOptions) => {
      importOptions.signal?.throwIfAborted();
      if (closed) throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the client is closed');
      const signal = importOptions.signal ? AbortSignal.any([importOptions.signal, closing.signal]) : closing.signal;
      return importRecords(openImport, source, { ...importOptions, signal });
    },
  });

  return {
    authority: service(AuthorityService),
    cases: service(CasesService),
    records,
    lookups: service(LookupsService),
    access: service(AccessService),
    events: (eventsOptions) => events(eventsOptions),
    close() {
      if (closed) return;
      closed = true;
      closing.abort(new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the client was closed'));
      for (const stream of streams) stream.cancel();
      grpc.close();
    },
  };
}

/** How an officer signs in with {@link signIn}: the port as for {@link connect}, and the credentials. */
export interface SignInOptions extends Omit<ConnectOptions, 'sessionToken' | 'apiKey' | 'token'> {
  readonly officerId: string;
  readonly password: string;
  /** The current code of the officer's authenticator (RFC 6238), when the account requires one. */
  readonly totpCode?: string;
}

/** A signed-in client: calls act as the officer until the session expires or `signOut()`. */
export interface SignedIn {
  readonly client: TracenetClient;
  readonly sessionToken: string;
  readonly sessionId: string;
  readonly expiresAtMs: number;
  /** Ends the session on the node (Access.Logout) and closes the client. */
  signOut(): Promise<void>;
}

/**
 * Signs an officer in with a password (and a TOTP code when the account needs one) and connects
 * with the session (docs/protocol.md 7.1). Rejects with UNAUTHORIZED (`credentials`,
 * `totp_required`, `account_locked`, `officer_disabled`) or RATE_LIMITED (`login_backoff`, after
 * failed attempts). The password is sent once and kept nowhere.
 *
 * @example
 * ```ts
 * const { client, signOut } = await signIn({ address: '127.0.0.1:7444', officerId: 'ana', password, totpCode });
 * const { cases } = await client.cases.listCases(ListCasesRequest.fromPartial({ limit: 20 }));
 * await signOut();
 * ```
 */
export async function signIn(options: SignInOptions): Promise<SignedIn> {
  const { officerId, password, totpCode, ...port } = options;
  const anonymous = connect({ ...port, token: '' });
  let login;
  try {
    login = await anonymous.access.login({ officerId, password, totpCode: totpCode ?? '' });
  } finally {
    anonymous.close();
  }
  const client = connect({ ...port, sessionToken: login.sessionToken });
  return {
    client,
    sessionToken: login.sessionToken,
    sessionId: login.sessionId,
    expiresAtMs: login.expiresAtMs,
    async signOut() {
      try {
        await client.access.logout({});
      } finally {
        client.close();
      }
    },
  };
}
