import {
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  ServerInterceptingCall,
  ServerListenerBuilder,
} from '@grpc/grpc-js';
import { constants as http2 } from 'node:http2';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { admit, type AuthorityCredentials } from '../api/grpc-handlers.js';
import { systemScheduler, type Timer } from '../util/scheduler.js';

/**
 * A call whose reads are watched: `onRead` runs each time the handler asks for the next message.
 * grpc-js offers no hook for that; the handler reaches `startRead` through the outermost call.
 */
class WatchedCall extends ServerInterceptingCall {
  constructor(
    next: ServerInterceptingCallInterface,
    responder: ConstructorParameters<typeof ServerInterceptingCall>[1],
    private readonly onRead: () => void,
  ) {
    super(next, responder);
  }

  override startRead(): void {
    this.onRead();
    super.startRead();
  }
}

/**
 * Resets the HTTP/2 stream of a call that was answered before the client finished sending
 * (RST_STREAM NO_ERROR, RFC 9113 8.1): otherwise grpc-js keeps reading, and discarding, whatever
 * the client still sends. The stream is a private field of grpc-js's innermost call (1.14); on
 * another call this does nothing.
 */
function stopReading(call: ServerInterceptingCallInterface): void {
  const stream = (call as unknown as { stream?: { destroyed?: boolean; close?: (code: number) => void } }).stream;
  if (stream && !stream.destroyed) stream.close?.(http2.NGHTTP2_NO_ERROR);
}

/** Requests in progress per key; a request over the limit waits, unread, for one to end. */
export class ArrivalSlots {
  readonly #active = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();

  constructor(readonly perKey: number) {}

  /** Calls `granted` now or once a slot of `key` is free; returns the release, which also withdraws a waiting request. */
  acquire(key: string, granted: () => void): () => void {
    let state: 'waiting' | 'holding' | 'done' = 'waiting';
    const grant = () => {
      state = 'holding';
      this.#active.set(key, (this.#active.get(key) ?? 0) + 1);
      granted();
    };
    if ((this.#active.get(key) ?? 0) < this.perKey) grant();
    else this.#waiting.set(key, [...(this.#waiting.get(key) ?? []), grant]);
    return () => {
      if (state === 'waiting') {
        const queue = (this.#waiting.get(key) ?? []).filter((g) => g !== grant);
        if (queue.length > 0) this.#waiting.set(key, queue);
        else this.#waiting.delete(key);
      } else if (state === 'holding') {
        const active = (this.#active.get(key) ?? 1) - 1;
        if (active > 0) this.#active.set(key, active);
        else this.#active.delete(key);
        const queue = this.#waiting.get(key);
        const next = queue?.shift();
        if (queue?.length === 0) this.#waiting.delete(key);
        next?.();
      }
      state = 'done';
    };
  }
}

/**
 * Cancels a request whose message has not fully arrived `timeoutMs` after the call started (first
 * message) or after the handler asked for the next one, and frees what was buffered of it:
 * grpc-js has no such limit and keeps a stalled message's bytes for as long as the stream stays
 * open. With `slots`, only `slots.perKey` requests of one key (`keyOf` the caller, e.g. the pinned
 * peer of the connection) may be arriving at once; the others wait unread — HTTP/2 flow control
 * then holds the sender to one stream window each — and their wait counts against the timeout.
 * The refusal is DEADLINE_EXCEEDED (`request`, rule `arrival_timeout`). Any answer given before
 * the client finished sending (this refusal, a missing token) ends the stream, so that nothing
 * more of it is read. It must be the first interceptor (next to grpc-js's own call).
 *
 * @example
 * ```ts
 * const server = new Server({ interceptors: [arrivalInterceptor(10_000, { slots: new ArrivalSlots(4), keyOf: (call) => call.getPeer() })] });
 * ```
 */
export function arrivalInterceptor(
  timeoutMs: number,
  admission?: { slots: ArrivalSlots; keyOf: (call: ServerInterceptingCallInterface) => string },
): ServerInterceptor {
  const timedOut = new TracenetError(
    ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
    `the request did not arrive within ${timeoutMs / 1000} s; it was cancelled`,
    {
      field: 'request',
      rule: 'arrival_timeout',
    },
  );
  return (_method, call) => {
    let timer: Timer | undefined;
    let halfClosed = false;
    let release = () => {};
    const disarm = () => {
      timer?.cancel();
      timer = undefined;
    };
    const end = () => {
      disarm();
      release();
    };
    const arm = () => {
      disarm();
      timer = systemScheduler.setTimeout(() => {
        end();
        call.sendStatus(timedOut.toStatus());
        stopReading(call);
      }, timeoutMs);
    };
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata: Metadata, next: (metadata: Metadata) => void) => {
        if (admission) release = admission.slots.acquire(admission.keyOf(call), () => next(metadata));
        else next(metadata);
      })
      .withOnReceiveMessage((message: unknown, next: (message: unknown) => void) => {
        end();
        next(message);
      })
      .withOnReceiveHalfClose((next: () => void) => {
        halfClosed = true;
        end();
        next();
      })
      .withOnCancel(end)
      .build();
    return new WatchedCall(
      call,
      {
        start: (next) => {
          arm();
          next(listener);
        },
        sendStatus: (status, next) => {
          end();
          next(status);
          if (!halfClosed) stopReading(call);
        },
      },
      // The first message's timer runs from the start; each later one's from the handler's read.
      () => {
        if (!timer) arm();
      },
    );
  };
}

/**
 * Admits every call whose method `guarded` names from its metadata ({@link admit}: the bearer
 * token names an actor — a session, an API key, the bootstrap token in setup mode — whose roles
 * allow the method) before a byte of the request is read: a call without a valid token is refused
 * with UNAUTHORIZED, one the caller's roles do not allow with FORBIDDEN, at once, and its body is
 * never buffered. The handler admits the call again (a session may end in between).
 */
export function bearerInterceptor(
  credentials: AuthorityCredentials,
  guarded: (path: string) => boolean,
): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next(
          new ServerListenerBuilder()
            .withOnReceiveMetadata((metadata: Metadata, nextMetadata: (metadata: Metadata) => void) => {
              if (!guarded(method.path)) {
                nextMetadata(metadata);
                return;
              }
              try {
                admit(credentials, metadata, method.path);
              } catch (error) {
                call.sendStatus(TracenetError.from(error).toStatus());
                return;
              }
              nextMetadata(metadata);
            })
            .build(),
        ),
    });
}
