import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { readAuthorityToken } from '../identity/data-dir.js';

/** What `tracenet login` keeps for one node (by its data directory): never a password. */
export interface StoredLogin {
  readonly officerId: string;
  readonly sessionId: string;
  readonly token: string;
  readonly expiresAtMs: number;
}

/**
 * The CLI user's login file: `TRACENET_LOGIN_FILE`, else `$XDG_CONFIG_HOME/tracenet/logins.json`
 * (`~/.config/tracenet/logins.json`). It holds session tokens, so it is the user's alone: mode
 * 0600 in a directory of mode 0700.
 */
export function loginFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRACENET_LOGIN_FILE) return resolve(env.TRACENET_LOGIN_FILE);
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'tracenet', 'logins.json');
}

async function readLogins(path: string): Promise<Record<string, StoredLogin>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, StoredLogin>) : {};
  } catch {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `${path} is not a login file; delete it and sign in again (tracenet login)`,
      { field: 'TRACENET_LOGIN_FILE', rule: 'json' },
    );
  }
}

async function writeLogins(path: string, logins: Record<string, StoredLogin>): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(logins, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/** The key of a node in the login file: its data directory, absolute. */
const keyOf = (dataDir: string) => resolve(dataDir);

/** Keeps the session of `login` for the node of `dataDir` (mode 0600). */
export async function saveLogin(
  dataDir: string,
  login: StoredLogin,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const path = loginFilePath(env);
  const logins = await readLogins(path);
  logins[keyOf(dataDir)] = login;
  await writeLogins(path, logins);
  return path;
}

/** The stored session for the node of `dataDir`, unless it has expired. */
export async function storedLogin(
  dataDir: string,
  nowMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StoredLogin | undefined> {
  const login = (await readLogins(loginFilePath(env)))[keyOf(dataDir)];
  return login && typeof login.token === 'string' && login.expiresAtMs > nowMs ? login : undefined;
}

/** Forgets the session for the node of `dataDir`; returns what was forgotten. */
export async function forgetLogin(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StoredLogin | undefined> {
  const path = loginFilePath(env);
  const logins = await readLogins(path);
  const login = logins[keyOf(dataDir)];
  if (!login) return undefined;
  delete logins[keyOf(dataDir)];
  if (Object.keys(logins).length === 0) await rm(path, { force: true });
  else await writeLogins(path, logins);
  return login;
}

/**
 * The token the CLI sends to the node of `dataDir`, in order of preference: `TRACENET_TOKEN` (an
 * API key or session token, for scripts), the session of `tracenet login`, and the bootstrap token
 * `<data>/keys/authority.token` (which the node accepts only in setup mode, docs/protocol.md 7.1).
 */
export async function cliToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.TRACENET_TOKEN) return env.TRACENET_TOKEN;
  const login = await storedLogin(dataDir, Date.now(), env);
  return login ? login.token : readAuthorityToken(dataDir);
}
