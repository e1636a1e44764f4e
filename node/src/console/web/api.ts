import { NodeEvent, WhoAmIResponse } from '@tracenet/proto/browser';
import { fromBase64 } from './buffer-shim.js';

/** A message codec of the generated contract (ts-proto). */
interface Codec<T> {
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
  fromPartial(object: never): T;
}
interface MethodDefinition {
  readonly name: string;
  readonly requestType: Codec<unknown>;
  readonly responseType: Codec<unknown>;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}
/** A generic service definition of the contract, e.g. `CasesDefinition`. */
interface ServiceDefinition {
  readonly fullName: string;
  readonly methods: Readonly<Record<string, MethodDefinition>>;
}

/** What a form may leave out: every field of a request is optional, as protobuf defaults fill it. */
export type DeepPartial<T> = T extends Uint8Array | string | number | boolean | undefined
  ? T
  : T extends ReadonlyArray<infer U>
    ? Array<DeepPartial<U>>
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;
type RequestOf<M> = M extends { requestType: { fromJSON(object: never): infer T } } ? T : never;
type ResponseOf<M> = M extends { responseType: { fromJSON(object: never): infer T } } ? T : never;

/** A refused call: the Tracenet error code, the field and the rule it broke (docs/errors.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string,
    readonly rule: string,
    readonly violations: ReadonlyArray<{ field: string; rule: string; message: string }> = [],
  ) {
    super(message);
  }
}

interface SessionState {
  participantId: string;
  csrfToken: string;
  who: WhoAmIResponse | undefined;
  /** Whether the node signs officers in through the state's identity provider too. */
  oidc: boolean;
  /** Why the session of the browser's cookie is over (expired, idle, ended), found at load. */
  ended: ApiError | undefined;
}
const session: SessionState = { participantId: '', csrfToken: '', who: undefined, oidc: false, ended: undefined };
const signedOutListeners = new Set<(error: ApiError) => void>();

/** Called when a call finds the session gone (expired, idle, signed out elsewhere). */
export function onSignedOut(listener: (error: ApiError) => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

async function refusal(response: Response): Promise<ApiError> {
  let body: { error?: Partial<ApiError> & { code?: string } } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON: a proxy or the network
  }
  const error = body.error ?? {};
  return new ApiError(
    response.status,
    error.code ?? 'UNAVAILABLE',
    error.message ?? response.statusText,
    error.field ?? '',
    error.rule ?? (response.status === 0 ? 'network' : 'http'),
    error.violations ?? [],
  );
}

// When the officer last touched the page (a key, a click, a tap): a screen that reloads by itself
// after a live event is not the officer at work, and the console's idle timeout must see that.
let lastInputAt = Date.now();
for (const type of ['keydown', 'pointerdown'] as const)
  addEventListener(
    type,
    () => {
      lastInputAt = Date.now();
    },
    { capture: true, passive: true },
  );

/** The headers of every call: the CSRF token, and how long the officer has not touched the page. */
export function callHeaders(): Record<string, string> {
  return {
    'x-csrf-token': session.csrfToken,
    'x-tracenet-idle-ms': String(Math.max(0, Date.now() - lastInputAt)),
  };
}

async function post(url: string, body: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', ...callHeaders() },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'UNAVAILABLE', 'the node cannot be reached', '', 'network');
  }
  if (!response.ok) {
    const error = await refusal(response);
    // A session that ended (expired, idle, signed out elsewhere): the console shows the sign-in again.
    if (response.status === 401 && url !== '/api/session') {
      session.who = undefined;
      for (const listener of signedOutListeners) listener(error);
    }
    throw error;
  }
  return response.json();
}

/**
 * Calls one method of the Authority API through the console, as the signed-in officer: the same
 * handler, role check and audit as a gRPC call (node/src/console/server).
 *
 * @example
 * ```ts
 * const { case: c } = await rpc(CasesDefinition, 'getCase', { caseId });
 * ```
 */
export async function rpc<S extends ServiceDefinition, K extends keyof S['methods'] & string>(
  service: S,
  method: K,
  request: DeepPartial<RequestOf<S['methods'][K]>>,
): Promise<ResponseOf<S['methods'][K]>> {
  const definition = service.methods[method] as MethodDefinition;
  const message = definition.requestType.fromPartial(request as never);
  const json = await post(`/api/rpc/${service.fullName}/${definition.name}`, definition.requestType.toJSON(message));
  return definition.responseType.fromJSON(json) as ResponseOf<S['methods'][K]>;
}

/** The session state the page came with (index.html's meta element), once: later loads ask the node. */
function inlineSession(): unknown {
  const meta = document.querySelector('meta[name="tracenet-session"]');
  const content = meta?.getAttribute('content');
  meta?.remove();
  if (!content) return undefined;
  try {
    const state = JSON.parse(new TextDecoder().decode(fromBase64(content))) as { who?: unknown; ended?: unknown };
    // Signed out without a reason may only mean that the browser did not send the SameSite=Strict
    // cookie with a navigation that came from another site (the identity provider's redirect): ask
    // again. A session that ended says so here, once (the cookie is cleared with this page).
    return state.who || state.ended ? state : undefined;
  } catch {
    return undefined;
  }
}

async function fetchSession(): Promise<unknown> {
  const response = await fetch('/api/session', { credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) throw await refusal(response);
  return response.json();
}

/** The node, the CSRF token and the signed-in officer (undefined before sign-in). */
export async function loadSession(): Promise<SessionState> {
  const body = (inlineSession() ?? (await fetchSession())) as {
    participantId: string;
    csrfToken: string;
    who: unknown;
    oidc?: boolean;
    ended?: { code: string; rule: string } | null;
  };
  session.participantId = body.participantId;
  session.csrfToken = body.csrfToken;
  session.who = body.who ? WhoAmIResponse.fromJSON(body.who) : undefined;
  session.oidc = body.oidc === true;
  session.ended = body.ended ? new ApiError(401, body.ended.code, '', 'session', body.ended.rule) : undefined;
  return session;
}

/** The session as last loaded. */
export function currentSession(): Readonly<SessionState> {
  return session;
}

/** Signs in with a local account (password and, when required, the TOTP code). */
export async function signIn(officerId: string, password: string, totpCode: string): Promise<void> {
  await post('/api/session', { officerId, password, totpCode });
  await loadSession();
}

/** Signs out: ends the node session and clears the cookie. */
export async function signOut(): Promise<void> {
  try {
    await post('/api/session/end', {});
  } finally {
    session.who = undefined;
    await loadSession();
  }
}

type EventListener = (event: NodeEvent) => void;
const eventListeners = new Set<EventListener>();
let source: EventSource | undefined;

/**
 * Live updates: every event of the node (case steps, messages, hits) as it happens, from
 * `/api/events` (server-sent events; the browser reconnects by itself, resuming after the last id).
 * Returns the function that stops listening.
 */
export function onNodeEvent(listener: EventListener): () => void {
  eventListeners.add(listener);
  if (!source) {
    source = new EventSource('/api/events', { withCredentials: true });
    source.addEventListener('node', (message) => {
      const event = NodeEvent.fromJSON(JSON.parse((message as MessageEvent<string>).data));
      for (const each of eventListeners) each(event);
    });
  }
  return () => {
    eventListeners.delete(listener);
    if (eventListeners.size === 0) {
      source?.close();
      source = undefined;
    }
  };
}
