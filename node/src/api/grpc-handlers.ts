import type { Metadata, sendUnaryData, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js';
import { timingSafeEqual } from 'node:crypto';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import type { Logger } from 'pino';
import { type Actor, NODE_ACTOR, type Role, runAs } from '../access/actor.js';
import { authorize, isPublic } from '../access/permissions.js';

/**
 * Turns anything a handler throws into a gRPC status with a Tracenet detail. Internal errors are
 * logged in full and answered without their message, so nothing internal leaks to callers.
 */
export function toServiceError(error: unknown, logger: Logger) {
  const failure = TracenetError.from(error);
  if (failure.code === ErrorCode.ERROR_CODE_INTERNAL) {
    logger.error({ err: error }, 'internal error in a handler');
    return new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'internal error; nothing was written', {
      rule: 'internal',
    }).toStatus();
  }
  return failure.toStatus();
}

const UNDECODABLE = Symbol('undecodable request');

/**
 * The service definition with request decoding that never throws. grpc-js answers a request whose
 * bytes do not decode with a bare INTERNAL; here they decode to a marker instead, which
 * {@link requireDecoded} (called by every handler) turns into MALFORMED with a detail.
 */
export function decodingTolerantly<D extends ServiceDefinition>(definition: D): D {
  const tolerant = Object.entries(definition).map(([name, method]) => [
    name,
    {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch {
          return { [UNDECODABLE]: true };
        }
      },
    },
  ]);
  return Object.fromEntries(tolerant) as D;
}

/** Throws MALFORMED (field `request`, rule `protobuf`) for a request whose bytes did not decode. */
export function requireDecoded(request: unknown): void {
  if (typeof request === 'object' && request !== null && UNDECODABLE in request) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_MALFORMED,
      "the request is not a valid protobuf message of the method's request type",
      { field: 'request', rule: 'protobuf' },
    );
  }
}

/** Adapts a promise-returning handler to grpc-js's callback style; it never throws. */
export function unary<Req, Res>(
  logger: Logger,
  handler: (request: Req, metadata: Metadata, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    let result: Promise<Res>;
    try {
      requireDecoded(call.request);
      result = handler(call.request, call.metadata, call);
    } catch (error) {
      callback(toServiceError(error, logger));
      return;
    }
    result.then(
      (response) => callback(null, response),
      (error: unknown) => callback(toServiceError(error, logger)),
    );
  };
}

/** Checks `authorization: Bearer <token>` in constant time. Throws UNAUTHORIZED. */
export function requireBearer(metadata: Metadata, token: string): void {
  const header = metadata.get('authorization')[0];
  const presented =
    typeof header === 'string' && header.startsWith('Bearer ') ? Buffer.from(header.slice(7)) : Buffer.alloc(0);
  const expected = Buffer.from(token);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new TracenetError(ErrorCode.ERROR_CODE_UNAUTHORIZED, 'missing or wrong bearer token', {
      field: 'authorization',
      rule: 'bearer_token',
    });
  }
}

/** Turns the bearer token of a call into the {@link Actor} behind it; throws UNAUTHORIZED. */
export interface AccessGate {
  authenticate(metadata: Metadata): Actor;
}

/**
 * What the Authority services check calls with: the node's access gate (`AccessControl`:
 * sessions, API keys, the bootstrap token in setup mode), or a plain token that is the only one
 * accepted, with every role (a service served alone, in a test).
 */
export type AuthorityCredentials = AccessGate | string;

const EVERY_ROLE: readonly Role[] = ['officer', 'supervisor', 'auditor', 'administrator'];

/** The gate of {@link AuthorityCredentials}. */
export function gateOf(credentials: AuthorityCredentials): AccessGate {
  if (typeof credentials !== 'string') return credentials;
  const actor: Actor = Object.freeze({ kind: 'bootstrap', id: '', roles: EVERY_ROLE, session: '' });
  return {
    authenticate: (metadata) => {
      requireBearer(metadata, credentials);
      return actor;
    },
  };
}

/**
 * Authenticates and authorizes a call of the method at `path` (docs/protocol.md 7.1): the actor of
 * its bearer token, allowed by the permission table (access/permissions.ts). A public method
 * (sign-in) needs no token and runs as the node. Throws UNAUTHORIZED or FORBIDDEN.
 */
export function admit(credentials: AuthorityCredentials, metadata: Metadata, path: string): Actor {
  if (isPublic(path)) return NODE_ACTOR;
  const actor = gateOf(credentials).authenticate(metadata);
  authorize(actor, path);
  return actor;
}

/**
 * Unary handlers of an Authority API service: each call is admitted ({@link admit}: its bearer
 * token names an actor whose roles allow the method), then `handler` runs on behalf of that actor
 * (`runAs`, so that what it writes to the audit log names it); errors become statuses with details.
 *
 * @example
 * ```ts
 * const guarded = guardedUnary(logger, access);
 * const implementation = { getCase: guarded(async (r: CaseIdRequest) => ({ case: await w.get(r.caseId) })) };
 * ```
 */
export function guardedUnary(logger: Logger, credentials: AuthorityCredentials) {
  const gate = gateOf(credentials);
  return <Req, Res>(handler: (request: Req, actor: Actor, call: ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    unary<Req, Res>(logger, async (request, metadata, call) => {
      const actor = admit(gate, metadata, call.getPath());
      return runAs(actor, () => handler(request, actor, call));
    });
}
