import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import {
  AccessDefinition,
  AuthorityDefinition,
  CasesDefinition,
  ErrorCode,
  LoginRequest,
  LoginResponse,
  LookupsDefinition,
  NodeEvent,
  RecordsDefinition,
  StatisticsDefinition,
  TracenetError,
  WhoAmIResponse,
} from '@tracenet/proto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ServiceTable } from '../../api/service-table.js';
import { CONSOLE_LANGUAGES } from '../../access/access-control.js';
import { permissionOf } from '../../access/permissions.js';
import type { Scheduler } from '../../util/scheduler.js';
import { importRoute } from './import-route.js';
import { type Caller, invokeServerStream, invokeUnary } from './invoke.js';
import { hostAndPort, withPort } from '../../util/host-port.js';

/** The console's settings (`console.*` in docs/operations.md). */
export interface ConsoleSettings {
  /** "host:port" the console listens on. */
  readonly listen: string;
  /** An officer who does nothing for this long is signed out of the console. */
  readonly idleTimeoutMs: number;
  /** `https://<console>/auth/oidc/callback` registered at the provider; '': access.oidc.redirectUri is the console's. */
  readonly oidcRedirectUri?: string;
}

/** What the console needs from the node. */
export interface ConsoleDeps {
  readonly settings: ConsoleSettings;
  /** The Authority API's handlers, by method path: every console call goes through them. */
  readonly methods: ServiceTable;
  /** The HTTPS certificate and key (PEM): the configured ones, or the node's own. */
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** This node's participant id, shown in the console's header. */
  readonly participantId: string;
  /** Time (idle timeout) and the keep-alive timer of live updates. */
  readonly clock: Scheduler;
  readonly logger: Logger;
  /** Where the built browser files are (index.html, assets/); `dist/console/web` by default. */
  readonly webRoot?: string;
  /** Whether sign-in through the state's identity provider is configured (`access.oidc.issuer`). */
  readonly oidcConfigured?: boolean;
  /** Largest encoded request the Authority port takes: no console call may be larger. */
  readonly maxRequestBytes: number;
}

/** A running console. */
export interface ConsoleServer {
  /** "host:port" it listens on (the port filled in when 0 was asked). */
  readonly address: string;
  close(): Promise<void>;
}

/** The session cookie: `__Host-` binds it to this origin, over HTTPS, for every path. */
export const SESSION_COOKIE = '__Host-tracenet-session';
const CSRF_COOKIE = '__Host-tracenet-csrf';
/**
 * The `state` of the OpenID Connect sign-in this browser began: the callback completes only the
 * sign-in of the browser that began it (no signing a victim in as someone else with a link).
 * `SameSite=Lax`, as the provider sends the browser back with a cross-site navigation.
 */
const OIDC_STATE_COOKIE = '__Host-tracenet-oidc';
/** The attributes the session cookie is set and cleared with (a browser keeps a `__Host-` cookie cleared without them). */
const SESSION_COOKIE_OPTIONS = { path: '/', httpOnly: true, secure: true, sameSite: 'strict' } as const;
/** The same for the OIDC state cookie (set with a 10-minute max-age). */
const OIDC_STATE_COOKIE_OPTIONS = { path: '/', httpOnly: true, secure: true, sameSite: 'lax' } as const;
/** Sign-in attempts (local or through the provider) per browser address and minute. */
const SIGN_IN_RATE = { max: 20, timeWindow: 60_000 };
/** Sessions whose last activity the console remembers; beyond it, the ones idle for longest are dropped. */
const MAX_TRACKED_SESSIONS = 10_000;
/** Live-update streams one session may hold open (a few tabs). */
const MAX_STREAMS_PER_SESSION = 4;
/** Events written but not yet read by a browser before its stream is cut off. */
const MAX_UNREAD_EVENT_BYTES = 1024 * 1024;
/** Largest JSON body of a call (a trace request with its photos of the markings). */
const BODY_LIMIT = 12 * 1024 * 1024;
const SERVICES = [
  AuthorityDefinition,
  CasesDefinition,
  RecordsDefinition,
  LookupsDefinition,
  AccessDefinition,
  StatisticsDefinition,
];
/** Methods with a route of their own (sign-in and sign-out set and clear the cookie), not callable through /api/rpc. */
const OWN_ROUTES = new Set([
  '/tracenet.v1.Access/Login',
  '/tracenet.v1.Access/Logout',
  '/tracenet.v1.Access/BeginOidcSignIn',
  '/tracenet.v1.Access/CompleteOidcSignIn',
]);

interface MessageCodec {
  fromJSON(object: unknown): unknown;
  toJSON(message: never): unknown;
  encode(message: never): { finish(): Uint8Array };
}
interface ConsoleMethod {
  readonly path: string;
  readonly requestType: MessageCodec;
  readonly responseType: MessageCodec;
}

/** Every unary method of the Authority API the console may call, by path, with its JSON codecs. */
function consoleMethods(): ReadonlyMap<string, ConsoleMethod> {
  const methods = new Map<string, ConsoleMethod>();
  for (const service of SERVICES) {
    for (const method of Object.values(service.methods) as Array<{
      name: string;
      requestType: MessageCodec;
      responseType: MessageCodec;
      requestStream: boolean;
      responseStream: boolean;
    }>) {
      const path = `/${service.fullName}/${method.name}`;
      if (method.requestStream || method.responseStream || OWN_ROUTES.has(path)) continue;
      if (permissionOf(path) === undefined) continue;
      methods.set(path, { path, requestType: method.requestType, responseType: method.responseType });
    }
  }
  return methods;
}

/** HTTP status of a Tracenet error, from its gRPC status (docs/errors.md). */
const HTTP_OF_GRPC: Readonly<Record<number, number>> = {
  3: 400, // INVALID_ARGUMENT
  4: 504, // DEADLINE_EXCEEDED
  5: 404, // NOT_FOUND
  6: 409, // ALREADY_EXISTS
  7: 403, // PERMISSION_DENIED
  8: 429, // RESOURCE_EXHAUSTED
  9: 409, // FAILED_PRECONDITION
  10: 409, // ABORTED
  11: 400, // OUT_OF_RANGE
  12: 404, // UNIMPLEMENTED
  14: 503, // UNAVAILABLE
  16: 401, // UNAUTHENTICATED
};

/** The JSON body of a refused call: the Tracenet error code, message, field and rule. */
export interface ConsoleErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly field: string;
    readonly rule: string;
    readonly violations: ReadonlyArray<{ field: string; rule: string; message: string }>;
  };
}

/** Longest message or field name a refusal carries back: the node's texts may quote what was sent. */
const MAX_ERROR_TEXT = 500;
const clip = (text: string) => (text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text);

function sendError(reply: FastifyReply, error: unknown, logger: Logger, status?: number): FastifyReply {
  const failure = TracenetError.from(error);
  const internal = failure.code === ErrorCode.ERROR_CODE_INTERNAL;
  if (internal) logger.error({ err: error }, 'console call failed');
  const body: ConsoleErrorBody = {
    error: {
      code: failure.codeName,
      message: internal ? 'internal error; nothing was written' : clip(failure.message),
      field: clip(failure.field),
      rule: internal ? 'internal' : clip(failure.rule),
      violations: failure.violations
        .slice(0, 50)
        .map((v) => ({ field: clip(v.field), rule: clip(v.rule), message: clip(v.message) })),
    },
  };
  return reply.code(status ?? HTTP_OF_GRPC[failure.grpcStatus] ?? 500).send(body);
}

function consoleError(code: ErrorCode, message: string, field: string, rule: string): TracenetError {
  return new TracenetError(code, message, { field, rule });
}

/** The built browser files next to this module (dist/console/web), or from src/ in tests. */
function defaultWebRoot(): string {
  const beside = fileURLToPath(new URL('../web/', import.meta.url));
  if (existsSync(`${beside}index.html`)) return beside;
  return fileURLToPath(new URL('../../../dist/console/web/', import.meta.url));
}

/** The address of a browser as the node's refusal tally names sources. */
function peerOf(request: FastifyRequest): string {
  const ip = request.ip;
  return ip.includes(':') ? `ipv6:[${ip}]:0` : `ipv4:${ip}:0`;
}

/**
 * Starts the officers' web console (docs/console.md): the browser application and a JSON API over
 * the Authority API's own handlers. Every call runs as the officer of the session cookie through
 * the same token check, role table, validation and audit as a gRPC call; the console adds sign-in
 * with a `HttpOnly; Secure; SameSite=Strict` cookie, CSRF tokens, an idle timeout, rate limits and
 * a Content Security Policy that loads nothing from outside the node.
 */
export async function startConsole(deps: ConsoleDeps): Promise<ConsoleServer> {
  const logger = deps.logger.child({ component: 'console' });
  const methods = consoleMethods();
  const app: FastifyInstance = Fastify({
    https: { cert: deps.tls.cert, key: deps.tls.key },
    bodyLimit: BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // A stop does not wait for browsers: open uploads and live-update streams are cut.
    forceCloseConnections: true,
  });
  /** Last activity of each session seen by the console (sha-256 of its token → ms). */
  const lastSeen = new Map<string, number>();
  const sessionKey = (token: string) => createHash('sha256').update(token).digest('base64url');

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        manifestSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    crossOriginEmbedderPolicy: true,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, {
    cookieKey: CSRF_COOKIE,
    // Lax: a link from another site that opens the console must not replace the secret of open tabs;
    // the protection is the token in the x-csrf-token header, which another site cannot read.
    cookieOpts: { path: '/', httpOnly: true, secure: true, sameSite: 'lax', signed: false },
  });
  await app.register(fastifyRateLimit, { global: true, max: 1200, timeWindow: 60_000 });

  const webRoot = deps.webRoot ?? defaultWebRoot();
  await app.register(fastifyStatic, {
    root: webRoot,
    preCompressed: true,
    // index.html is served by the route `/` below, with the session state in it.
    index: false,
    allowedPath: (path) => path !== '/index.html',
    wildcard: false,
    setHeaders: (reply, path) => {
      reply.header(
        'cache-control',
        path.includes('/assets/') && /-[A-Z0-9]{8}\./.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });

  /**
   * Clears the session cookie. A `__Host-` cookie is only replaced by one with the same attributes
   * (`Secure` above all): without them the browser would keep the session.
   */
  const clearSession = (reply: FastifyReply) => reply.clearCookie(SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
  /** The open live-update streams of each session (by {@link sessionKey}): capped, and ended at sign-out. */
  const streams = new Map<string, Set<() => void>>();
  const endStreams = (key: string) => {
    for (const end of streams.get(key) ?? []) end();
    streams.delete(key);
  };

  /**
   * Ends a session at this console: forgotten, its live updates ended, ended on the node (a
   * failure there is the node's to report: the token is already unusable here), its cookie cleared.
   */
  const endSession = async (token: string, peer: string, reply: FastifyReply) => {
    const key = sessionKey(token);
    lastSeen.delete(key);
    endStreams(key);
    await invokeUnary(deps.methods, '/tracenet.v1.Access/Logout', {}, { token, peer }).catch(() => undefined);
    clearSession(reply);
  };

  const remember = (token: string) => {
    const now = deps.clock.now();
    if (lastSeen.size >= MAX_TRACKED_SESSIONS) {
      for (const [key, at] of lastSeen) if (now - at > deps.settings.idleTimeoutMs) lastSeen.delete(key);
      while (lastSeen.size >= MAX_TRACKED_SESSIONS) {
        const oldest = lastSeen.keys().next().value;
        if (oldest === undefined) break;
        lastSeen.delete(oldest);
      }
    }
    lastSeen.set(sessionKey(token), now);
  };
  /**
   * Sets the cookie of a session just opened (a browser-session cookie; the node ends the session
   * at access.sessionTtlMs, the console after console.idleTimeoutMs without activity). A session
   * cookie the browser already had (an earlier session, or one planted before sign-in) is ended
   * on the node and replaced.
   */
  const openSession = async (request: FastifyRequest, reply: FastifyReply, opened: LoginResponse) => {
    const previous = request.cookies[SESSION_COOKIE] ?? '';
    if (previous !== '' && previous !== opened.sessionToken) await endSession(previous, peerOf(request), reply);
    remember(opened.sessionToken);
    // No Expires: the browser forgets the cookie when it closes, and keeps it past the node
    // session's end, so that the console can say the session expired rather than "sign in".
    reply.setCookie(SESSION_COOKIE, opened.sessionToken, SESSION_COOKIE_OPTIONS);
  };

  /** The session token of the cookie, after the idle check; throws UNAUTHORIZED. */
  const sessionOf = async (request: FastifyRequest, reply: FastifyReply, touch = true): Promise<Caller> => {
    const token = request.cookies[SESSION_COOKIE] ?? '';
    const peer = peerOf(request);
    if (token === '') throw consoleError(ErrorCode.ERROR_CODE_UNAUTHORIZED, 'sign in first', 'session', 'signed_out');
    const key = sessionKey(token);
    const now = deps.clock.now();
    const last = lastSeen.get(key);
    // A session this console did not open (a restart, an evicted entry, a made-up cookie) is not
    // taken on trust: the node's refusal when it refuses the token too, else the session is ended
    // and the officer signs in again.
    if (last === undefined) {
      await invokeUnary(deps.methods, '/tracenet.v1.Access/WhoAmI', {}, { token, peer });
      await endSession(token, peer, reply);
      throw consoleError(
        ErrorCode.ERROR_CODE_UNAUTHORIZED,
        'this console did not open the session (it restarted, or the session is unknown); sign in again',
        'session',
        'signed_out',
      );
    }
    if (now - last > deps.settings.idleTimeoutMs) {
      await endSession(token, peer, reply);
      throw consoleError(
        ErrorCode.ERROR_CODE_UNAUTHORIZED,
        `signed out after ${Math.round(deps.settings.idleTimeoutMs / 60_000)} minutes without activity`,
        'session',
        'session_idle',
      );
    }
    if (touch) {
      // The console's page says how long the officer has not touched it (x-tracenet-idle-ms): a
      // screen reloading by itself after a live event is no activity. Other clients count as active.
      const idle = Number(request.headers['x-tracenet-idle-ms']);
      const active = Number.isFinite(idle) && idle > 0 ? now - Math.min(idle, now) : now;
      lastSeen.delete(key);
      lastSeen.set(key, Math.max(last, active));
    }
    return { token, peer };
  };
  /**
   * The caller of a session that is still open, without counting the check as activity: idle
   * timeout at this console, and the node's own view (ended, expired, account disabled).
   */
  const stillOpen = async (request: FastifyRequest, reply: FastifyReply): Promise<Caller> => {
    const caller = await sessionOf(request, reply, false);
    await invokeUnary(deps.methods, '/tracenet.v1.Access/WhoAmI', {}, caller);
    return caller;
  };
  const csrf = app.csrfProtection;
  /** The caller of each request whose session `signedIn` checked, before its body was read. */
  const callers = new WeakMap<FastifyRequest, Caller>();
  /** onRequest hook: no body is read for a browser that is not signed in (throws UNAUTHORIZED). */
  const signedIn = async (request: FastifyRequest, reply: FastifyReply) => {
    callers.set(request, await sessionOf(request, reply));
  };

  /** What the browser needs before and after sign-in: the node, the CSRF token, the officer if any. */
  const sessionState = async (request: FastifyRequest, reply: FastifyReply) => {
    const csrfToken = reply.generateCsrf();
    const token = request.cookies[SESSION_COOKIE] ?? '';
    let who: unknown = null;
    let ended: { code: string; rule: string } | null = null;
    if (token !== '') {
      try {
        who = WhoAmIResponse.toJSON(
          (await invokeUnary(
            deps.methods,
            '/tracenet.v1.Access/WhoAmI',
            {},
            await sessionOf(request, reply),
          )) as WhoAmIResponse,
        );
      } catch (error) {
        // Why the session is over (expired, idle, ended elsewhere): the sign-in screen says so.
        const failure = TracenetError.from(error);
        if (failure.code === ErrorCode.ERROR_CODE_UNAUTHORIZED) ended = { code: failure.codeName, rule: failure.rule };
        clearSession(reply);
      }
    }
    return { participantId: deps.participantId, csrfToken, who, ended, oidc: deps.oidcConfigured === true };
  };

  app.get('/api/session', async (request, reply) =>
    reply.header('cache-control', 'no-store').send(await sessionState(request, reply)),
  );

  // The application's page, with the session state in a meta element (base64 of its JSON): the
  // browser starts without waiting one more round trip for /api/session (docs/console.md, slow links).
  let page: Promise<string> | undefined;
  app.get('/', async (request, reply) => {
    page ??= readFile(join(webRoot, 'index.html'), 'utf8');
    const session = await sessionState(request, reply);
    const state = Buffer.from(JSON.stringify(session)).toString('base64');
    // The catalogue the page will ask for, fetched with the page's own files.
    const language = catalogueLanguage(session.who, request.headers['accept-language']);
    const html = (await page).replace(
      '<head>',
      `<head>\n<meta name="tracenet-session" content="${state}">\n<link rel="preload" href="/assets/messages/${language}.json" as="fetch" crossorigin>`,
    );
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
  });

  app.post('/api/session', { onRequest: csrf, config: { rateLimit: SIGN_IN_RATE } }, async (request, reply) => {
    try {
      const body = request.body ?? {};
      if (typeof body !== 'object' || Array.isArray(body))
        throw consoleError(ErrorCode.ERROR_CODE_MALFORMED, 'the body must be a JSON object', 'request', 'json');
      const login = LoginRequest.fromJSON(body);
      const opened = (await invokeUnary(deps.methods, '/tracenet.v1.Access/Login', login, {
        token: '',
        peer: peerOf(request),
      })) as LoginResponse;
      await openSession(request, reply, opened);
      return reply.header('cache-control', 'no-store').send(LoginResponse.toJSON({ ...opened, sessionToken: '' }));
    } catch (error) {
      return sendError(reply, error, logger);
    }
  });

  app.post('/api/session/end', { onRequest: csrf }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE] ?? '';
    if (token !== '') await endSession(token, peerOf(request), reply);
    else clearSession(reply);
    return reply.send({});
  });

  // Sign-in through the state's identity provider (OpenID Connect): the node's BeginOidcSignIn and
  // CompleteOidcSignIn, the console's callback as redirect URI. A refusal returns the browser to the
  // sign-in screen with `/?signin=<rule>`, which the screen shows in the officer's language.
  let oidcRedirectUri = deps.settings.oidcRedirectUri ?? '';
  const backToSignIn = (reply: FastifyReply, rule: string) =>
    reply
      .header('cache-control', 'no-store')
      .clearCookie(OIDC_STATE_COOKIE, OIDC_STATE_COOKIE_OPTIONS)
      .redirect(`/?signin=${encodeURIComponent(rule.replace(/[^a-z0-9_]/g, '') || 'oidc')}`, 302);

  app.get('/auth/oidc', { config: { rateLimit: SIGN_IN_RATE } }, async (request, reply) => {
    try {
      const begun = (await invokeUnary(
        deps.methods,
        '/tracenet.v1.Access/BeginOidcSignIn',
        { redirectUri: deps.settings.oidcRedirectUri ?? '' },
        { token: '', peer: peerOf(request) },
      )) as { authorizationUrl: string; redirectUri: string };
      oidcRedirectUri = begun.redirectUri;
      const state = new URL(begun.authorizationUrl).searchParams.get('state') ?? '';
      return reply
        .header('cache-control', 'no-store')
        .setCookie(OIDC_STATE_COOKIE, state, { ...OIDC_STATE_COOKIE_OPTIONS, maxAge: 600 })
        .redirect(begun.authorizationUrl, 302);
    } catch (error) {
      const failure = TracenetError.from(error);
      if (failure.code === ErrorCode.ERROR_CODE_INTERNAL) logger.error({ err: error }, 'OIDC sign-in failed');
      else logger.info({ rule: failure.rule, reason: failure.message }, 'OIDC sign-in could not begin');
      return backToSignIn(reply, failure.rule);
    }
  });

  app.get('/auth/oidc/callback', { config: { rateLimit: SIGN_IN_RATE } }, async (request, reply) => {
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    const state = new URLSearchParams(query).get('state') ?? '';
    const began = request.cookies[OIDC_STATE_COOKIE] ?? '';
    if (oidcRedirectUri === '' || state === '' || began !== state) return backToSignIn(reply, 'oidc_state');
    try {
      const callback = new URL(oidcRedirectUri);
      callback.search = query;
      const opened = (await invokeUnary(
        deps.methods,
        '/tracenet.v1.Access/CompleteOidcSignIn',
        { callbackUrl: callback.href },
        { token: '', peer: peerOf(request) },
      )) as LoginResponse;
      await openSession(request, reply, opened);
      return reply
        .header('cache-control', 'no-store')
        .clearCookie(OIDC_STATE_COOKIE, OIDC_STATE_COOKIE_OPTIONS)
        .redirect('/', 302);
    } catch (error) {
      const failure = TracenetError.from(error);
      if (failure.code === ErrorCode.ERROR_CODE_INTERNAL) logger.error({ err: error }, 'OIDC sign-in failed');
      else logger.info({ rule: failure.rule, reason: failure.message }, 'OIDC sign-in refused');
      return backToSignIn(reply, failure.rule);
    }
  });

  // One route per Authority API method: POST /api/rpc/tracenet.v1.Cases/GetCase with the request as
  // protobuf JSON; the response is protobuf JSON, a refusal a ConsoleErrorBody.
  app.post<{ Params: { service: string; method: string } }>(
    '/api/rpc/:service/:method',
    { onRequest: [csrf, signedIn] },
    async (request, reply) => {
      const path = `/${request.params.service}/${request.params.method}`;
      try {
        const method = methods.get(path);
        if (!method)
          throw consoleError(
            ErrorCode.ERROR_CODE_NOT_FOUND,
            `${path.slice(1)} is not a method of the console`,
            'method',
            'known_method',
          );
        const caller = callers.get(request) ?? (await sessionOf(request, reply));
        const body = request.body ?? {};
        if (typeof body !== 'object' || Array.isArray(body))
          throw consoleError(ErrorCode.ERROR_CODE_MALFORMED, 'the body must be a JSON object', 'request', 'json');
        let message: unknown;
        try {
          message = method.requestType.fromJSON(body);
        } catch (cause) {
          throw new TracenetError(
            ErrorCode.ERROR_CODE_MALFORMED,
            `the body is not a valid ${path.split('/').pop()} request`,
            { field: 'request', rule: 'json', cause },
          );
        }
        // No larger than the Authority port takes (its maxReceiveBytes): the console is no way around it.
        const size = method.requestType.encode(message as never).finish().length;
        if (size > deps.maxRequestBytes)
          throw consoleError(
            ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE,
            `the request is ${size} bytes encoded; the node takes at most ${deps.maxRequestBytes}`,
            'request',
            'max_bytes',
          );
        const response = await invokeUnary(deps.methods, path, message, caller);
        return reply.header('cache-control', 'no-store').send(method.responseType.toJSON(response as never));
      } catch (error) {
        return sendError(reply, error, logger);
      }
    },
  );

  // Live updates: the node's event stream (WatchEvents) as server-sent events, one `event` per NodeEvent.
  // The session is checked before anything is sent and again at every keep-alive; a session has at
  // most MAX_STREAMS_PER_SESSION streams; a browser that stops reading is cut off (it resumes with
  // Last-Event-ID); signing out ends the session's streams.
  app.get<{ Querystring: { after?: string } }>('/api/events', async (request, reply) => {
    let caller: Caller;
    try {
      caller = await stillOpen(request, reply);
    } catch (error) {
      return sendError(reply, error, logger);
    }
    const key = sessionKey(caller.token);
    const open = streams.get(key) ?? new Set<() => void>();
    if (open.size >= MAX_STREAMS_PER_SESSION)
      return sendError(
        reply,
        consoleError(
          ErrorCode.ERROR_CODE_RATE_LIMITED,
          `at most ${MAX_STREAMS_PER_SESSION} live-update streams per session`,
          'events',
          'streams_per_session',
        ),
        logger,
      );
    const after = Number(request.headers['last-event-id'] ?? request.query.after ?? 0);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    raw.write(': tracenet events\n\n');
    let closed = false;
    // Set below; `close` may run before (a stream that ends at once).
    const handles: { keepAlive?: { cancel(): void }; stream?: { cancel(): void } } = {};
    const close = () => {
      if (closed) return;
      closed = true;
      handles.keepAlive?.cancel();
      handles.stream?.cancel();
      open.delete(close);
      if (open.size === 0 && streams.get(key) === open) streams.delete(key);
      raw.end();
    };
    handles.stream = invokeServerStream(
      deps.methods,
      '/tracenet.v1.Authority/WatchEvents',
      // A browser that reconnects resumes after the last event it saw; a new page wants only what happens from now.
      Number.isSafeInteger(after) && after > 0
        ? { afterSequence: after, liveOnly: false }
        : { afterSequence: 0, liveOnly: true },
      caller,
      (message) => {
        if (closed) return;
        const event = message as NodeEvent;
        raw.write(`id: ${event.sequence}\nevent: node\ndata: ${JSON.stringify(NodeEvent.toJSON(event))}\n\n`);
        if (raw.writableLength > MAX_UNREAD_EVENT_BYTES) close();
      },
      (error) => {
        if (error && !closed)
          raw.write(`event: end\ndata: ${JSON.stringify({ code: error.codeName, rule: error.rule })}\n\n`);
        close();
      },
    );
    // At each keep-alive the session must still be open (not idle, not ended, not expired on the node).
    handles.keepAlive = deps.clock
      .setInterval(() => {
        void (async () => {
          try {
            await stillOpen(request, reply);
            if (!closed) raw.write(': keep-alive\n\n');
          } catch {
            close();
          }
        })();
      }, 25_000)
      .unref();
    if (!closed) {
      open.add(close);
      streams.set(key, open);
    }
    request.raw.on('close', close);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      consoleError(
        ErrorCode.ERROR_CODE_NOT_FOUND,
        `${request.method} ${request.url.split('?')[0]} is not a page or call of the console`,
        'path',
        'known_path',
      ),
      logger,
    ),
  );
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    // Fastify's own refusals (body too large, bad JSON, CSRF, rate limit) keep their status, with a Tracenet body.
    const status = error.statusCode ?? 500;
    if (status >= 500) return sendError(reply, error, logger);
    const rule = (error.code ?? 'request').replace(/^FST_/, '').toLowerCase();
    const code =
      status === 429
        ? ErrorCode.ERROR_CODE_RATE_LIMITED
        : status === 403
          ? ErrorCode.ERROR_CODE_FORBIDDEN
          : status === 413
            ? ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE
            : ErrorCode.ERROR_CODE_MALFORMED;
    return sendError(reply, consoleError(code, error.message, 'request', rule), logger, status);
  });

  await app.register(
    importRoute({ methods: deps.methods, sessionOf, refuse: (r, e) => sendError(r, e, logger), logger }),
  );

  await app.listen(hostAndPort(deps.settings.listen));
  const bound = app.server.address();
  const address =
    typeof bound === 'object' && bound ? withPort(deps.settings.listen, bound.port) : deps.settings.listen;
  logger.info({ address }, 'console ready');
  return {
    address,
    close: async () => {
      await app.close();
    },
  };
}

const LANGUAGES: readonly string[] = CONSOLE_LANGUAGES;

/**
 * The language whose catalogue the browser will load first: the officer's own (WhoAmI), else the
 * first of the browser's languages the console has, else English — the browser's choice kept in its
 * storage may differ, and then it loads that one instead.
 */
function catalogueLanguage(who: unknown, acceptLanguage: string | undefined): string {
  const own = (who as { language?: string } | null)?.language ?? '';
  if (LANGUAGES.includes(own)) return own;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const base = part.trim().slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}
