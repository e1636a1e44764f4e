import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { Metadata, type ServerErrorResponse, type StatusObject } from '@grpc/grpc-js';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import type { RegisteredMethod, ServiceTable } from '../../api/service-table.js';

/** Who the console calls a method for: the officer's session token and the browser's address. */
export interface Caller {
  /** The session token from the officer's cookie; '' before sign-in (public methods only). */
  readonly token: string;
  /** The browser's address as the node's refusal tally names sources (`ipv4:1.2.3.4:0`). */
  readonly peer: string;
}

function metadataOf(caller: Caller): Metadata {
  const metadata = new Metadata();
  if (caller.token !== '') metadata.set('authorization', `Bearer ${caller.token}`);
  return metadata;
}

function registered(methods: ServiceTable, path: string, streaming: 'unary' | 'server' | 'duplex'): RegisteredMethod {
  const method = methods.method(path);
  const shape =
    method &&
    (method.definition.requestStream
      ? method.definition.responseStream
        ? 'duplex'
        : 'client'
      : method.definition.responseStream
        ? 'server'
        : 'unary');
  if (!method || shape !== streaming)
    throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${path.slice(1)} is not a method of the console`, {
      field: 'method',
      rule: 'known_method',
    });
  return method;
}

/** What a grpc-js handler reads of its call besides the messages: metadata, path, peer, cancellation. */
function callFields(path: string, caller: Caller) {
  return {
    metadata: metadataOf(caller),
    cancelled: false,
    getPath: () => path,
    getPeer: () => caller.peer,
    getDeadline: () => Number.POSITIVE_INFINITY,
    sendMetadata: () => undefined,
  };
}

/** The call object of a unary or server-streaming handler. */
function callOf(path: string, request: unknown, caller: Caller) {
  return Object.assign(new EventEmitter(), { request, ...callFields(path, caller) });
}

/** The TracenetError of what a handler failed with: a status object (its callback, its 'error' event) or an Error. */
function failureOf(error: unknown): TracenetError {
  if (error instanceof Error || typeof error !== 'object' || error === null) return TracenetError.from(error);
  return TracenetError.from(Object.assign(new Error((error as Partial<StatusObject>).details ?? ''), error));
}

/** `onEnd`, called at most once. */
function once(onEnd: (error: TracenetError | undefined) => void) {
  let ended = false;
  return {
    get ended() {
      return ended;
    },
    end(error: TracenetError | undefined) {
      if (ended) return;
      ended = true;
      onEnd(error);
    },
  };
}

/**
 * Calls the unary handler registered at `path` — the Authority port's own, with its token check,
 * role table, validation and audit — for `caller`. Resolves with the response message; rejects
 * with the TracenetError of the status the handler answered.
 */
export function invokeUnary(methods: ServiceTable, path: string, request: unknown, caller: Caller): Promise<unknown> {
  const method = registered(methods, path, 'unary');
  return new Promise((resolve, reject) => {
    const callback = (error: ServerErrorResponse | Partial<StatusObject> | null, response?: unknown) => {
      if (error) reject(failureOf(error));
      else resolve(response);
    };
    (method.handler as (call: unknown, callback: unknown) => void)(callOf(path, request, caller), callback);
  });
}

/** A server stream opened in the node: its messages, its end, and how to cancel it. */
export interface OpenStream {
  /** Stops the stream (the browser went away); the handler sees `cancelled`. */
  cancel(): void;
}

/**
 * Opens the server-streaming handler at `path` (WatchEvents) for `caller`. `onMessage` gets each
 * message; `onEnd` once, with the TracenetError that ended it or undefined when it ended cleanly.
 */
export function invokeServerStream(
  methods: ServiceTable,
  path: string,
  request: unknown,
  caller: Caller,
  onMessage: (message: unknown) => void,
  onEnd: (error: TracenetError | undefined) => void,
): OpenStream {
  const method = registered(methods, path, 'server');
  const done = once(onEnd);
  const call = Object.assign(callOf(path, request, caller), {
    write: (message: unknown) => {
      if (!done.ended) onMessage(message);
      return true;
    },
    end: () => done.end(undefined),
  });
  call.on('error', (error: unknown) => done.end(failureOf(error)));
  (method.handler as (call: unknown) => void)(call);
  return {
    cancel: () => {
      if (call.cancelled) return;
      call.cancelled = true;
      call.emit('cancelled');
      call.emit('close');
      done.end(undefined);
    },
  };
}

/** A bidirectional stream opened in the node: what the console writes to it, and how to end or cancel it. */
export interface DuplexStream {
  /** Sends one request message; false when the handler is behind (wait for `onDrain` before the next). */
  write(message: unknown): boolean;
  /** Called once when the handler has read what was buffered and wants more. */
  onDrain(listener: () => void): void;
  /** Ends the requests (the end of the file): the handler finishes and answers its last messages. */
  end(): void;
  /** Stops the call (the browser went away): the handler sees `cancelled` and writes nothing more. */
  cancel(): void;
}

/**
 * Opens the bidirectional handler at `path` (ImportRecords) for `caller`, as the Authority port's
 * grpc-js would: its requests are a readable object stream that `write` fills (with backpressure:
 * at most a few messages wait), its answers go to `onMessage`, and `onEnd` is called once, with
 * the TracenetError that ended the call, or undefined when it ended cleanly or was cancelled.
 */
export function invokeDuplexStream(
  methods: ServiceTable,
  path: string,
  caller: Caller,
  onMessage: (message: unknown) => void,
  onEnd: (error: TracenetError | undefined) => void,
): DuplexStream {
  const method = registered(methods, path, 'duplex');
  const done = once(onEnd);
  let drain: (() => void) | undefined;
  let requestsEnded = false;
  const endRequests = () => {
    if (requestsEnded) return;
    requestsEnded = true;
    requests.push(null);
  };
  const requests = new Readable({
    objectMode: true,
    highWaterMark: 4,
    read() {
      const listener = drain;
      drain = undefined;
      listener?.();
    },
  });
  const call = Object.assign(requests, {
    ...callFields(path, caller),
    write: (message: unknown) => {
      if (!done.ended && !call.cancelled) onMessage(message);
      return true;
    },
    end: () => done.end(undefined),
  });
  // The handler reports its failure as grpc-js handlers do: an 'error' event with the status object.
  call.on('error', (error: unknown) => done.end(failureOf(error)));
  (method.handler as (call: unknown) => void)(call);
  return {
    write: (message) => (done.ended || call.cancelled || requestsEnded ? true : requests.push(message)),
    onDrain: (listener) => {
      drain = listener;
    },
    end: () => {
      if (!done.ended && !call.cancelled) endRequests();
    },
    cancel: () => {
      if (call.cancelled) return;
      call.cancelled = true;
      call.emit('cancelled');
      done.end(undefined);
      // The handler may be waiting for the next chunk: end its requests so that it sees the cancel.
      endRequests();
    },
  };
}
