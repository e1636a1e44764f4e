/** Types of engine.mjs (plain JavaScript so that CI runs it before anything is built). */

export type EngineOutcome =
  | { readonly ok: true; readonly started: boolean; readonly ms: number }
  | { readonly ok: false; readonly reason: string; readonly ms: number };

/** Resolves once a Docker engine answers, installing (apt-get) and starting dockerd when root. */
export function ensureDockerEngine(options?: {
  readonly log?: (line: string) => void;
  readonly install?: boolean;
}): Promise<EngineOutcome>;

/** Whether `docker info` answers. */
export function engineAnswers(): boolean;

/** The engine's version, storage driver and cgroup version, for logs. */
export function engineVersion(): string;

/** Runs `work` holding the machine-wide lock of this module. */
export function withEngineLock<T>(work: () => Promise<T>, staleMs?: number): Promise<T>;
