import type { Metadata, sendUnaryData, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js';
import { timingSafeEqual } from 'node:crypto';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import type { Logger } from 'pino';

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

/**
 * Unary handlers of an Authority API service: each call must carry the bearer token, then runs
 * `handler`; errors become statuses with details.
 *
 * @example
 * ```ts
 * const guarded = guardedUnary(logger, token);
 * const implementation = { getCase: guarded(async (r: CaseIdRequest) => ({ case: await w.get(r.caseId) })) };
 * ```
 */
export function guardedUnary(logger: Logger, token: string) {
  return <Req, Res>(handler: (request: Req) => Promise<Res>) =>
    unary<Req, Res>(logger, async (request, metadata) => {
      requireBearer(metadata, token);
      return handler(request);
    });
}
