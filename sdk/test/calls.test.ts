import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthorityService, GetNodeInfoResponse, RecordsService } from '@tracenet/proto';
import { connect, ErrorCode, TracenetError, type TracenetClient } from '../src/index.js';

/**
 * A fake Authority server on 127.0.0.1:0: each test scripts what GetNodeInfo and SendNotice do, and
 * counts the calls that reached it.
 */
describe('deadlines, cancellation and retries', () => {
  const server = new Server();
  let client: TracenetClient;
  let calls = 0;
  /** Answers of the next calls: an error to fail with, 'hang' to never answer, or 'ok'. */
  let script: Array<TracenetError | 'hang' | 'ok'> = [];
  const handler =
    (respond: () => unknown) => (_call: unknown, callback: (error: unknown, response?: unknown) => void) => {
      calls += 1;
      const next = script.shift() ?? 'ok';
      if (next === 'hang') return;
      if (next === 'ok') callback(null, respond());
      else callback(next.toStatus());
    };

  beforeAll(async () => {
    server.addService(AuthorityService, {
      getNodeInfo: handler(() => GetNodeInfoResponse.fromPartial({ participantId: 'FRA' })),
      sendNotice: handler(() => ({ messageId: 'm-1' })),
    } as unknown as UntypedServiceImplementation);
    // ImportRecords reads the whole stream, then fails like `script` says.
    server.addService(RecordsService, {
      importRecords: (call: {
        on(event: string, listener: () => void): void;
        emit(event: string, value: unknown): void;
        end(): void;
      }) => {
        calls += 1;
        call.on('data', () => undefined);
        call.on('end', () => {
          const next = script.shift() ?? 'ok';
          if (next instanceof TracenetError) call.emit('error', next.toStatus());
        });
      },
    } as unknown as UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    client = connect({
      address: `127.0.0.1:${port}`,
      token: 't',
      retries: { maxRetries: 3, initialDelayMs: 5, maxDelayMs: 20 },
    });
  });
  afterAll(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });
  beforeEach(() => {
    calls = 0;
    script = [];
  });

  const storage = () => new TracenetError(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, 'disk busy', { rule: 'storage' });

  it('retries an idempotent call after a retryable code, then succeeds', async () => {
    script = [storage(), storage()];
    expect((await client.authority.getNodeInfo({})).participantId).toBe('FRA');
    expect(calls).toBe(3);
  });

  it('gives up after maxRetries and surfaces the last typed error', async () => {
    script = [storage(), storage(), storage(), storage(), storage()];
    const error = await client.authority.getNodeInfo({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TracenetError);
    expect((error as TracenetError).code).toBe(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE);
    expect((error as TracenetError).rule).toBe('storage');
    expect(calls).toBe(4);
  });

  it('does not retry a non-retryable code', async () => {
    script = [new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such thing', { field: 'x' })];
    const error = (await client.authority.getNodeInfo({}).catch((e: unknown) => e)) as TracenetError;
    expect([error.code, error.field]).toEqual([ErrorCode.ERROR_CODE_NOT_FOUND, 'x']);
    expect(calls).toBe(1);
  });

  it('does not retry a call that is not idempotent (SendNotice), even on a retryable code', async () => {
    script = [storage()];
    const error = (await client.authority
      .sendNotice({ recipient: 'BEL', subject: 's', text: 't', correlationId: '' })
      .catch((e: unknown) => e)) as TracenetError;
    expect(error.code).toBe(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE);
    expect(calls).toBe(1);
  });

  it('never retries an import, even on a retryable code: a second attempt would import the rows again', async () => {
    script = [storage(), storage()];
    const error = (await client.records
      .importRecords('serial_number,type\nA-1,rifle\n', { format: 'csv' })
      .catch((e: unknown) => e)) as TracenetError;
    expect([error.code, error.retryable]).toEqual([ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, true]);
    expect(calls).toBe(1);
  });

  it('a deadline ends a call that gets no answer with DEADLINE_EXCEEDED, without retrying past it', async () => {
    script = ['hang', 'hang', 'hang', 'hang'];
    const started = Date.now();
    const error = (await client.authority
      .getNodeInfo({}, { deadlineMs: 200 })
      .catch((e: unknown) => e)) as TracenetError;
    expect(error).toBeInstanceOf(TracenetError);
    expect(error.code).toBe(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(calls).toBe(1);
  });

  it('an AbortSignal cancels the call and rejects with its reason', async () => {
    script = ['hang'];
    const controller = new AbortController();
    const pending = client.authority
      .getNodeInfo({}, { signal: controller.signal, deadlineMs: 30_000 })
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    controller.abort(new Error('user gave up'));
    const error = await pending;
    expect((error as Error).message).toBe('user gave up');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toBe(1);
    // An already aborted signal never reaches the server.
    await expect(
      client.authority.getNodeInfo({}, { signal: AbortSignal.abort(new Error('too late')) }),
    ).rejects.toThrow('too late');
    expect(calls).toBe(1);
  });
});
