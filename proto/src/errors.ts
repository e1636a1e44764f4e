import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { Any } from './gen/google/protobuf/any.js';
import { Status as RpcStatus } from './gen/google/rpc/status.js';
import { ErrorCode } from './gen/tracenet/v1/error_code.js';
import { ErrorDetail, type FieldViolation } from './gen/tracenet/v1/errors.js';
import type { Receipt } from './gen/tracenet/v1/receipt.js';

/** Type URL of {@link ErrorDetail} inside `google.rpc.Status.details`. */
export const ERROR_DETAIL_TYPE_URL = 'type.googleapis.com/tracenet.v1.ErrorDetail';

/** Trailer key of the standard gRPC rich error model. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

interface CodeInfo {
  /** gRPC status code sent with this error. */
  readonly grpc: GrpcStatus;
  /** Whether the same call may succeed later unchanged. */
  readonly retryable: boolean;
}

/**
 * The closed set of Tracenet error codes with their gRPC status and retry rule. `docs/errors.md`
 * is this table in prose; a test keeps the two in step.
 */
export const ERROR_CODES: Readonly<Record<Exclude<ErrorCode, ErrorCode.UNRECOGNIZED>, CodeInfo>> = {
  [ErrorCode.ERROR_CODE_UNSPECIFIED]: { grpc: GrpcStatus.UNKNOWN, retryable: false },
  [ErrorCode.ERROR_CODE_MALFORMED]: { grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false },
  [ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE]: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: false },
  [ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION]: { grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false },
  [ErrorCode.ERROR_CODE_MISSING_FIELD]: { grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false },
  [ErrorCode.ERROR_CODE_INVALID_FIELD]: { grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false },
  [ErrorCode.ERROR_CODE_WRONG_RECIPIENT]: { grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false },
  [ErrorCode.ERROR_CODE_UNKNOWN_SENDER]: { grpc: GrpcStatus.UNAUTHENTICATED, retryable: true },
  [ErrorCode.ERROR_CODE_SENDER_KEY_MISMATCH]: { grpc: GrpcStatus.UNAUTHENTICATED, retryable: true },
  [ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED]: { grpc: GrpcStatus.UNAUTHENTICATED, retryable: false },
  [ErrorCode.ERROR_CODE_BAD_SIGNATURE]: { grpc: GrpcStatus.UNAUTHENTICATED, retryable: false },
  [ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW]: { grpc: GrpcStatus.FAILED_PRECONDITION, retryable: false },
  [ErrorCode.ERROR_CODE_EXPIRED]: { grpc: GrpcStatus.FAILED_PRECONDITION, retryable: false },
  [ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED]: { grpc: GrpcStatus.ALREADY_EXISTS, retryable: false },
  [ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED]: { grpc: GrpcStatus.PERMISSION_DENIED, retryable: false },
  [ErrorCode.ERROR_CODE_INVALID_PEER_CARD]: { grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false },
  [ErrorCode.ERROR_CODE_UNAUTHORIZED]: { grpc: GrpcStatus.UNAUTHENTICATED, retryable: false },
  [ErrorCode.ERROR_CODE_NOT_FOUND]: { grpc: GrpcStatus.NOT_FOUND, retryable: false },
  [ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE]: { grpc: GrpcStatus.UNAVAILABLE, retryable: true },
  [ErrorCode.ERROR_CODE_INTERNAL]: { grpc: GrpcStatus.INTERNAL, retryable: true },
  [ErrorCode.ERROR_CODE_SHUTTING_DOWN]: { grpc: GrpcStatus.UNAVAILABLE, retryable: true },
  [ErrorCode.ERROR_CODE_UNAVAILABLE]: { grpc: GrpcStatus.UNAVAILABLE, retryable: true },
  [ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED]: { grpc: GrpcStatus.DEADLINE_EXCEEDED, retryable: true },
  [ErrorCode.ERROR_CODE_UNIMPLEMENTED]: { grpc: GrpcStatus.UNIMPLEMENTED, retryable: false },
  [ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION]: { grpc: GrpcStatus.FAILED_PRECONDITION, retryable: false },
  [ErrorCode.ERROR_CODE_CASE_CLOSED]: { grpc: GrpcStatus.FAILED_PRECONDITION, retryable: false },
  [ErrorCode.ERROR_CODE_RETENTION_PERIOD]: { grpc: GrpcStatus.FAILED_PRECONDITION, retryable: false },
  [ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE]: { grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false },
  [ErrorCode.ERROR_CODE_ALREADY_EXISTS]: { grpc: GrpcStatus.ALREADY_EXISTS, retryable: false },
  [ErrorCode.ERROR_CODE_RATE_LIMITED]: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: true },
  [ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED]: { grpc: GrpcStatus.FAILED_PRECONDITION, retryable: false },
  [ErrorCode.ERROR_CODE_FORBIDDEN]: { grpc: GrpcStatus.PERMISSION_DENIED, retryable: false },
};

/** Short name of a code without its prefix: `ERROR_CODE_BAD_SIGNATURE` → `BAD_SIGNATURE`. */
export function errorCodeName(code: ErrorCode): string {
  return (ErrorCode[code] ?? 'ERROR_CODE_UNRECOGNIZED').replace(/^ERROR_CODE_/, '');
}

function codeInfo(code: ErrorCode): CodeInfo {
  return ERROR_CODES[code as keyof typeof ERROR_CODES] ?? ERROR_CODES[ErrorCode.ERROR_CODE_UNSPECIFIED];
}

/** What a {@link TracenetError} may say beyond its code and message. */
export interface TracenetErrorOptions {
  /** Dotted path of the offending field, e.g. `header.recipient`. */
  readonly field?: string;
  /** Name of the broken rule, e.g. `replay_window`. */
  readonly rule?: string;
  /** Every offending field when there are several. */
  readonly violations?: readonly FieldViolation[];
  /** Signed REJECTED receipt, for envelopes whose header authenticated. */
  readonly receipt?: Receipt;
  /** What caused this error (kept for logs, never sent). */
  readonly cause?: unknown;
}

/**
 * The one error type of Tracenet. It carries a code from the closed set, the offending field or
 * rule, and converts to and from a gRPC status with an {@link ErrorDetail} in the
 * `grpc-status-details-bin` trailer.
 *
 * @example
 * ```ts
 * throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'recipient is required', { field: 'recipient' });
 * // client side:
 * const err = TracenetError.from(serviceError);
 * if (err.code === ErrorCode.ERROR_CODE_MISSING_FIELD) console.log(err.field);
 * ```
 */
export class TracenetError extends Error {
  override readonly name = 'TracenetError';
  readonly code: ErrorCode;
  readonly field: string;
  readonly rule: string;
  readonly violations: readonly FieldViolation[];
  readonly receipt: Receipt | undefined;

  constructor(code: ErrorCode, message: string, options: TracenetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field ?? '';
    this.rule = options.rule ?? '';
    this.violations = options.violations ?? [];
    this.receipt = options.receipt;
  }

  /** gRPC status this error is sent with. */
  get grpcStatus(): GrpcStatus {
    return codeInfo(this.code).grpc;
  }

  /** Whether the same call may succeed later unchanged. */
  get retryable(): boolean {
    return codeInfo(this.code).retryable;
  }

  /** Code name without prefix, e.g. `BAD_SIGNATURE`. */
  get codeName(): string {
    return errorCodeName(this.code);
  }

  /** The typed detail as it travels on the wire. */
  toDetail(): ErrorDetail {
    return {
      code: this.code,
      field: this.field,
      rule: this.rule,
      message: this.message,
      violations: [...this.violations],
      retryable: this.retryable,
      receipt: this.receipt,
    };
  }

  /** A gRPC status object (for server handlers) with the detail in the standard trailer. */
  toStatus(): Partial<StatusObject> & { code: GrpcStatus; details: string; metadata: Metadata } {
    const detail = ErrorDetail.encode(this.toDetail()).finish();
    const rpcStatus = RpcStatus.encode({
      code: this.grpcStatus,
      message: this.message,
      details: [{ typeUrl: ERROR_DETAIL_TYPE_URL, value: Buffer.from(detail) }],
    }).finish();
    const metadata = new Metadata();
    metadata.set(STATUS_DETAILS_KEY, Buffer.from(rpcStatus));
    return { code: this.grpcStatus, details: `${this.codeName}: ${this.message}`, metadata };
  }

  /**
   * Normalises anything thrown into a TracenetError. A gRPC ServiceError with a Tracenet detail
   * becomes that error; other gRPC errors map by status; anything else is INTERNAL with `cause`.
   */
  static from(error: unknown): TracenetError {
    if (error instanceof TracenetError) return error;
    if (isServiceError(error)) {
      const detail = readErrorDetail(error.metadata);
      if (detail) {
        return new TracenetError(detail.code, detail.message, {
          field: detail.field,
          rule: detail.rule,
          violations: detail.violations,
          ...(detail.receipt ? { receipt: detail.receipt } : {}),
          cause: error,
        });
      }
      return new TracenetError(codeForGrpcStatus(error.code), error.details || error.message, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, message, { cause: error });
  }
}

function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    (error as Partial<ServiceError>).metadata instanceof Metadata
  );
}

/** Reads the Tracenet detail from a status trailer, or undefined when there is none. */
export function readErrorDetail(metadata: Metadata | undefined): ErrorDetail | undefined {
  const raw = metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!(raw instanceof Buffer)) return undefined;
  try {
    const rpcStatus = RpcStatus.decode(raw);
    const any: Any | undefined = rpcStatus.details.find((d) => d.typeUrl === ERROR_DETAIL_TYPE_URL);
    return any ? ErrorDetail.decode(any.value) : undefined;
  } catch {
    return undefined;
  }
}

/** Transport-level statuses that carry no Tracenet detail map to the closest code. */
function codeForGrpcStatus(code: GrpcStatus): ErrorCode {
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.CANCELLED:
      return ErrorCode.ERROR_CODE_UNAVAILABLE;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED;
    case GrpcStatus.UNIMPLEMENTED:
      return ErrorCode.ERROR_CODE_UNIMPLEMENTED;
    case GrpcStatus.UNAUTHENTICATED:
      return ErrorCode.ERROR_CODE_UNAUTHORIZED;
    case GrpcStatus.PERMISSION_DENIED:
      return ErrorCode.ERROR_CODE_FORBIDDEN;
    case GrpcStatus.NOT_FOUND:
      return ErrorCode.ERROR_CODE_NOT_FOUND;
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE;
    case GrpcStatus.INVALID_ARGUMENT:
      return ErrorCode.ERROR_CODE_MALFORMED;
    default:
      return ErrorCode.ERROR_CODE_INTERNAL;
  }
}
