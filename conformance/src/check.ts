import { type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import {
  ERROR_CODES,
  ErrorCode,
  type ErrorDetail,
  errorCodeName,
  readErrorDetail,
  type Receipt,
  ReceiptBody,
  ReceiptStatus,
} from '@tracenet/proto';
import { verifyReceipt } from './codec/index.js';

/**
 * A case's verdict: what the protocol requires and what the node did. Cases throw it; the runner
 * reports `message` as the failure.
 *
 * @example
 * ```ts
 * throw new CaseFailure('ACCEPTED receipt', `REJECTED receipt with ${code}`);
 * ```
 */
export class CaseFailure extends Error {
  override readonly name = 'CaseFailure';
  constructor(
    readonly expected: string,
    readonly got: string,
    readonly context = '',
  ) {
    super(`${context ? `${context}: ` : ''}expected ${expected}; got ${got}`);
  }
}

/**
 * Runs `check` on every item, also after one failed, and fails the case once, listing each item
 * whose check failed (`label` names it): for cases that try one rule many times.
 *
 * @example
 * ```ts
 * await ensureEach('each field refused', ['subject', 'text'], (f) => `no ${f}`, async (f) => ensureRefused(await send(f), missing(f)));
 * ```
 */
export async function ensureEach<T>(
  expected: string,
  items: readonly T[],
  label: (item: T) => string,
  check: (item: T) => Promise<void>,
): Promise<void> {
  const wrong: string[] = [];
  for (const item of items) {
    try {
      await check(item);
    } catch (error) {
      if (!(error instanceof CaseFailure)) throw error;
      wrong.push(`${label(item)}: ${error.message}`);
    }
  }
  if (wrong.length > 0) throw new CaseFailure(expected, wrong.join('; '));
}

/** Fails the case unless `got` equals `expected` (strict, or by JSON for objects). */
export function ensureEqual<T>(got: T, expected: T, what: string): void {
  const same =
    typeof expected === 'object' && expected !== null
      ? JSON.stringify(got) === JSON.stringify(expected)
      : got === expected;
  if (!same) throw new CaseFailure(`${what} = ${show(expected)}`, `${what} = ${show(got)}`);
}

/** A readable rendering of a value for failure messages. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  try {
    return JSON.stringify(value, (_k, v: unknown) =>
      v instanceof Uint8Array || (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer')
        ? '<bytes>'
        : v,
    );
  } catch {
    return String(value);
  }
}

/** What a gRPC call to the node under test returned: a value, or an error as it came off the wire. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WireError };

/** A gRPC error of the node under test, with its Tracenet detail decoded from the trailer (protocol 9.2). */
export interface WireError {
  readonly grpcCode: number;
  /** The `grpc-message` text. */
  readonly grpcMessage: string;
  readonly detail: ErrorDetail | undefined;
  /** How many `details` the `google.rpc.Status` trailer carried. */
  readonly raw: ServiceError;
}

/** Runs a call and captures its error, if any, exactly as received. */
export async function outcomeOf<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    return { ok: false, error: wireError(error) };
  }
}

/** Converts anything a grpc-js call rejected with into a {@link WireError}. */
export function wireError(error: unknown): WireError {
  const e = (error as { cause?: unknown }).cause && !isService(error) ? (error as { cause: unknown }).cause : error;
  if (!isService(e)) {
    const message = e instanceof Error ? e.message : String(e);
    return { grpcCode: GrpcStatus.UNKNOWN, grpcMessage: message, detail: undefined, raw: e as ServiceError };
  }
  return { grpcCode: e.code, grpcMessage: e.details, detail: readErrorDetail(e.metadata), raw: e };
}

function isService(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    (error as Partial<ServiceError>).metadata !== undefined
  );
}

/** Short description of an outcome, for "got …". */
export function describe(outcome: Outcome<unknown>): string {
  if (outcome.ok) {
    const value = outcome.value as { body?: Uint8Array } | undefined;
    if (value && value.body instanceof Uint8Array) {
      return `a success answer (receipt ${receiptStatusName(value as Receipt)})`;
    }
    return 'a success answer';
  }
  const { detail, grpcCode, grpcMessage } = outcome.error;
  if (!detail) return `gRPC status ${GrpcStatus[grpcCode] ?? grpcCode} without Tracenet detail (${grpcMessage})`;
  const parts = [errorCodeName(detail.code)];
  if (detail.field) parts.push(`field ${detail.field}`);
  if (detail.rule) parts.push(`rule ${detail.rule}`);
  parts.push(detail.receipt ? 'with receipt' : 'without receipt');
  return `${parts.join(', ')} ("${detail.message}")`;
}

function receiptStatusName(receipt: Receipt): string {
  try {
    return ReceiptStatus[decodeReceiptBody(receipt).status] ?? '?';
  } catch {
    return 'undecodable';
  }
}

function decodeReceiptBody(receipt: Receipt): ReceiptBody {
  return ReceiptBody.decode(receipt.body);
}

/** What a refusal must look like. */
export interface ExpectedRefusal {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly rule?: string;
  /**
   * `rejected`: an authenticated envelope's refusal carries a signed REJECTED receipt with the
   * code (protocol 4.11); `none`: a refusal before authentication carries none (4.1);
   * undefined: not checked (Authority calls).
   */
  readonly receipt?: 'rejected' | 'none';
  /** The exact `ErrorDetail.message`, when the protocol fixes it. */
  readonly message?: string;
}

/** The one refusal of every envelope that names the node but does not authenticate (protocol 4.4), whatever the reason. */
export const NOT_AUTHENTICATED: ExpectedRefusal = {
  code: ErrorCode.ERROR_CODE_UNKNOWN_SENDER,
  field: '',
  rule: 'authentication',
  receipt: 'none',
  message: 'the envelope could not be authenticated',
};

/** What a refusal looks like on the wire: gRPC status, `grpc-message`, and the bytes of the `grpc-status-details-bin` trailer. */
function wireBytes(outcome: Outcome<unknown>): string {
  if (outcome.ok) return 'a success answer';
  const details = outcome.error.raw.metadata?.get('grpc-status-details-bin')[0];
  return `status ${outcome.error.grpcCode}, grpc-message ${JSON.stringify(outcome.error.grpcMessage)}, details ${details === undefined ? 'none' : Buffer.from(details).toString('hex')}`;
}

/**
 * Checks that each outcome (`[what was sent, the answer]`) is the one refusal before authentication
 * (protocol 4.4) and that all of them are byte-identical on the wire: gRPC status, `grpc-message`
 * and the serialized `google.rpc.Status` with its `ErrorDetail` (code, field, rule, message,
 * `retryable`, no violations, no receipt). Fails once, naming every answer that differs.
 *
 * @example
 * ```ts
 * ensureOneRefusal([['unpinned sender', a], ['failed AEAD check', b]]);
 * ```
 */
export function ensureOneRefusal(outcomes: ReadonlyArray<readonly [string, Outcome<unknown>]>): void {
  const wrong: string[] = [];
  for (const [what, outcome] of outcomes) {
    try {
      ensureRefused(outcome, NOT_AUTHENTICATED);
      if (!outcome.ok && outcome.error.detail?.retryable !== true)
        throw new CaseFailure('retryable = true', 'retryable = false', 'protocol 9.2');
      if (!outcome.ok && (outcome.error.detail?.violations.length ?? 0) > 0)
        throw new CaseFailure('no violations', `${outcome.error.detail?.violations.length} violations`);
    } catch (error) {
      if (!(error instanceof CaseFailure)) throw error;
      wrong.push(`${what}: ${error.message}`);
    }
  }
  const [first, ...rest] = outcomes;
  if (first && wrong.length === 0) {
    const reference = wireBytes(first[1]);
    for (const [what, outcome] of rest)
      if (wireBytes(outcome) !== reference)
        wrong.push(`${what}: ${wireBytes(outcome)} where ${first[0]} got ${reference}`);
  }
  if (wrong.length > 0)
    throw new CaseFailure(
      'the one refusal before authentication, byte for byte the same whatever the reason (UNKNOWN_SENDER, rule authentication, no field, retryable, no receipt)',
      wrong.join('; '),
      'protocol 4.4',
    );
}

/** Who must have signed a receipt, and about which message. */
export interface ReceiptExpectation {
  readonly issuer: string;
  readonly issuerKeyId: string;
  readonly issuerSigningPublicKey: Uint8Array;
  readonly sender: string;
  readonly messageId: string;
  /** The digest of the envelope answered; not compared when undefined (a remembered rejection). */
  readonly digest?: Uint8Array;
}

/**
 * Checks that a call was refused as the protocol says: code, field, rule, the gRPC status of the
 * code (9.2), and the receipt rule. Returns the decoded REJECTED receipt body, if any.
 */
export function ensureRefused(
  outcome: Outcome<unknown>,
  expected: ExpectedRefusal,
  receiptOf?: ReceiptExpectation,
): ReceiptBody | undefined {
  const want = [
    errorCodeName(expected.code),
    expected.field ? `field ${expected.field}` : '',
    expected.rule ? `rule ${expected.rule}` : '',
    expected.receipt === 'rejected'
      ? 'with a signed REJECTED receipt'
      : expected.receipt === 'none'
        ? 'without receipt'
        : '',
  ]
    .filter((s) => s !== '')
    .join(', ');
  if (outcome.ok) throw new CaseFailure(want, describe(outcome));
  const { detail, grpcCode } = outcome.error;
  if (!detail || detail.code !== expected.code) throw new CaseFailure(want, describe(outcome));
  if (expected.field !== undefined && detail.field !== expected.field) throw new CaseFailure(want, describe(outcome));
  if (expected.rule !== undefined && detail.rule !== expected.rule) throw new CaseFailure(want, describe(outcome));
  if (expected.message !== undefined && detail.message !== expected.message)
    throw new CaseFailure(`${want}, message "${expected.message}"`, `message "${detail.message}"`);
  const status = ERROR_CODES[expected.code as keyof typeof ERROR_CODES]?.grpc;
  if (status !== undefined && grpcCode !== status) {
    throw new CaseFailure(
      `${want} sent with gRPC status ${GrpcStatus[status]}`,
      `gRPC status ${GrpcStatus[grpcCode] ?? grpcCode}`,
      'protocol 9.2',
    );
  }
  if (expected.receipt === 'none' && detail.receipt)
    throw new CaseFailure(want, `${describe(outcome)}: a receipt for an envelope that was not authenticated`);
  if (expected.receipt === 'rejected') {
    if (!detail.receipt) throw new CaseFailure(want, describe(outcome));
    if (!receiptOf) return undefined;
    const body = ensureReceipt(detail.receipt, receiptOf, ReceiptStatus.RECEIPT_STATUS_REJECTED);
    if (body.errorCode !== expected.code)
      throw new CaseFailure(
        `REJECTED receipt with error_code ${errorCodeName(expected.code)}`,
        `error_code ${errorCodeName(body.errorCode)}`,
        'protocol 4.11',
      );
    return body;
  }
  return undefined;
}

/** Verifies a receipt's signature and naming (protocol 4.12, 5.4) and its status; returns its body. */
export function ensureReceipt(receipt: Receipt, expected: ReceiptExpectation, status: ReceiptStatus): ReceiptBody {
  let body: ReceiptBody;
  try {
    body = verifyReceipt(receipt, expected);
  } catch (error) {
    throw new CaseFailure(
      'a receipt signed by the node over D("tracenet.v1/receipt") || body, naming issuer, issuer key, sender and message id',
      (error as Error).message,
      'protocol 4.12',
    );
  }
  if (body.status !== status)
    throw new CaseFailure(
      `receipt status ${ReceiptStatus[status]}`,
      `${ReceiptStatus[body.status] ?? body.status}`,
      'protocol 4.12',
    );
  if (expected.digest && !Buffer.from(body.envelopeDigest).equals(Buffer.from(expected.digest))) {
    throw new CaseFailure('envelope_digest of the envelope answered', 'another digest', 'protocol 4.12');
  }
  if (status !== ReceiptStatus.RECEIPT_STATUS_REJECTED && body.errorCode !== ErrorCode.ERROR_CODE_UNSPECIFIED) {
    throw new CaseFailure(
      'error_code 0 on an ACCEPTED or DUPLICATE receipt',
      errorCodeName(body.errorCode),
      'protocol 4.12',
    );
  }
  if (status === ReceiptStatus.RECEIPT_STATUS_REJECTED && body.errorMessage === '')
    throw new CaseFailure('a REJECTED receipt with an error_message', 'an empty error_message', 'protocol 4.12');
  const skew = Math.abs(body.receivedAtMs - Date.now());
  if (skew > 120_000)
    throw new CaseFailure(
      'received_at_ms = the time the envelope arrived',
      `${skew} ms away from now`,
      'protocol 4.12',
    );
  return body;
}

/** Checks that a Deliver answer is an ACCEPTED receipt for this envelope (protocol 4.10, 4.12). */
export function ensureAccepted(outcome: Outcome<Receipt>, expected: ReceiptExpectation): ReceiptBody {
  if (!outcome.ok) throw new CaseFailure('an ACCEPTED receipt', describe(outcome));
  return ensureReceipt(outcome.value, expected, ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
}

/** Checks that a call to the Authority API succeeded and returns its value. */
export function ensureOk<T>(outcome: Outcome<T>, what: string): T {
  if (!outcome.ok) throw new CaseFailure(`${what} to succeed`, describe(outcome));
  return outcome.value;
}
