/**
 * A long-lived part of a node that works in the background while the node runs: the outbox, the
 * workflow, the lookup responder, metrics. `stop()` after a failed or missing `start()` is
 * harmless, and so is a second `stop()`.
 */
export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts services in the order given and stops them in the reverse order, so that a service
 * stops before the ones it relies on. When a start fails, the services already started are
 * stopped (in reverse) and the failure is thrown. A stop stops every started service even when
 * one of them fails, and then throws the first failure.
 *
 * @example
 * ```ts
 * const services = new ServiceGroup([
 *   ['registry', { start: () => registry.open(), stop: () => registry.close() }],
 *   ['outbox', outbox],
 *   ['workflow', workflow], // sends through the outbox: stopped before it
 * ]);
 * await services.start();
 * await services.stop();
 * ```
 */
export class ServiceGroup {
  readonly #services: ReadonlyArray<readonly [name: string, service: Service]>;
  readonly #started: Array<readonly [name: string, service: Service]> = [];

  constructor(services: ReadonlyArray<readonly [name: string, service: Service]>) {
    this.#services = services;
  }

  /** Names of the services that are started, in start order. */
  get started(): string[] {
    return this.#started.map(([name]) => name);
  }

  /** Starts every service that is not started yet, in order; on a failure stops what it started. */
  async start(): Promise<void> {
    for (const entry of this.#services) {
      if (this.#started.includes(entry)) continue;
      try {
        await entry[1].start();
      } catch (error) {
        await this.stop().catch(() => undefined);
        throw error;
      }
      this.#started.push(entry);
    }
  }

  /** Stops the started services in reverse order; every one is stopped even when one fails. */
  async stop(): Promise<void> {
    let failure: { error: unknown } | undefined;
    for (let entry = this.#started.pop(); entry; entry = this.#started.pop()) {
      try {
        await entry[1].stop();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }
}
