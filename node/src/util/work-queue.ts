import { ErrorCode, TracenetError } from '@tracenet/proto';

/**
 * Runs heavy work one piece at a time with a bounded wait: at most `maxWaiting` callers wait
 * behind the one running; one more is refused at once with RATE_LIMITED and `rule`, so that many
 * concurrent callers cannot hold many copies of the same large working set (statistics read the
 * whole store).
 *
 * @example
 * ```ts
 * const queue = new WorkQueue(8, 'statistics_busy');
 * const report = await queue.run(() => computeReport());
 * ```
 */
export class WorkQueue {
  #tail: Promise<void> = Promise.resolve();
  #queued = 0;

  constructor(
    private readonly maxWaiting: number,
    private readonly rule: string,
  ) {}

  /** Pieces running or waiting. */
  get size(): number {
    return this.#queued;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#queued > this.maxWaiting)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_RATE_LIMITED,
        `${this.maxWaiting} requests are already waiting for this computation; try again shortly`,
        { rule: this.rule },
      );
    this.#queued += 1;
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await previous;
      return await work();
    } finally {
      this.#queued -= 1;
      release();
    }
  }
}
