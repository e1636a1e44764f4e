/** Types of chromium.mjs (plain JavaScript so that scripts run it without a build). */

/** The path of Chromium, installing Debian's packages when it is missing (as root). */
export function ensureChromium(): string;

/**
 * Runs `work` in one process at a time among those that call this with the same `lock` directory;
 * a process that finds it taken waits, returning `ready()` once that gives a value. Throws after
 * `timeoutMs` of waiting.
 */
export function onlyOnce<T>(lock: string, ready: () => T | undefined, work: () => T, timeoutMs?: number): T;

/** Launch options of playwright-core's `chromium.launch` for that binary. */
export function chromiumLaunchOptions(): { executablePath: string; args: string[]; headless: boolean };
