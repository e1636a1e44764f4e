import { type ChildProcess, fork } from 'node:child_process';

/** Children of this run that have not exited; killed if the run dies. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Forks one of the bench's own scripts (a sibling of this module in dist/) with an IPC channel;
 * its stdout and stderr go to the parent's stderr so that failures are visible.
 */
export function forkScript(
  name: string,
  args: readonly string[] = [],
  options: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  const child = fork(new URL(`./${name}`, import.meta.url), [...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: options.execArgv ?? [],
    env: { ...process.env, ...options.env },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The next IPC message of `type` from a child; rejects if it exits first or after `timeoutMs`. */
export function nextMessage<T extends { type: string }>(
  child: ChildProcess,
  type: T['type'],
  timeoutMs = 600_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no ${type} message from child ${child.pid} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: { type?: string; error?: string }) => {
      if (message.type === 'error') done(new Error(`child ${child.pid} failed: ${message.error ?? 'unknown error'}`));
      else if (message.type === type) done(undefined, message as T);
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`child ${child.pid} exited (${code ?? signal}) before sending ${type}`));
    const done = (error?: Error, message?: T) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message as T);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Sends a request and waits for the answer of type `options.answer` (by default the request's type). */
export async function ask<T extends { type: string }>(
  child: ChildProcess,
  request: { type: string } & Record<string, unknown>,
  options: { answer?: T['type']; timeoutMs?: number } = {},
): Promise<T> {
  const answer = nextMessage<T>(child, options.answer ?? request.type, options.timeoutMs);
  child.send(request);
  return answer;
}

/** Asks a child to stop (SIGTERM), SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
