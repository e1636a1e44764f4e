import { readFile } from 'node:fs/promises';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { unsafeCharacter } from '../util/unsafe-text.js';

/** The roles a configuration may map an identity provider's claim value to (node/src/access/actor.ts). */
const ROLES = ['officer', 'supervisor', 'auditor', 'administrator'] as const;

/** The record kinds of `records.profile` (docs/protocol.md 17.2). */
const RECORD_KINDS = ['manufacture', 'import', 'export', 'transfer'] as const;

/** Default largest serialized envelope a node accepts (`envelope.maxBytes`): 4 MiB. */
export const DEFAULT_MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;

/** Node configuration. Every key can come from `<data>/config.json` or an environment variable. */
export interface NodeConfig {
  readonly federation: {
    /** Address the Federation service binds, "host:port" (port 0 picks a free port). */
    readonly listen: string;
    /** Endpoints advertised in the peer card; the bound address when empty. */
    readonly advertise: readonly string[];
    /**
     * Name of the federation this node belongs to; a roster must carry exactly this name
     * (docs/protocol.md 15.4). Required with a roster key; "" for none.
     */
    readonly name: string;
    /**
     * The federation operator's Ed25519 public key (64 hex or 44 base64 characters) that signs
     * rosters (docs/protocol.md 15.4); "" for none: no roster, pinning by operators only.
     */
    readonly rosterKey: string;
    /** A file holding that key instead (relative to the data directory); "" for none. */
    readonly rosterKeyFile: string;
    /** How long pinned peers keep working after the roster expired; then they are refused. */
    readonly rosterGraceMs: number;
    /**
     * Connections accepted at once, authenticated or not; more are closed on arrival. The other
     * limits of the port are below (docs/reliability.md, section Security).
     */
    readonly maxConnections: number;
    /** Connections from one source address whose TLS handshake has not finished (not yet authenticated). */
    readonly maxConnectionsPerAddress: number;
    /** Authenticated connections of one pinned peer (one client certificate). */
    readonly maxConnectionsPerPeer: number;
    /** A TLS handshake (with the client certificate check) not done after this is closed. */
    readonly handshakeTimeoutMs: number;
    /** HTTP/2 streams (calls) open at once on one connection. */
    readonly maxStreamsPerConnection: number;
    /** Requests of one pinned peer whose message is still arriving; later ones wait unread. */
    readonly maxArrivingPerPeer: number;
    /** A request whose message has not fully arrived after this is cancelled and its bytes freed. */
    readonly arrivalTimeoutMs: number;
    /** A connection without calls for this long is closed (`grpc.max_connection_idle_ms`). */
    readonly idleTimeoutMs: number;
    /** A connection is closed after this age, once its calls ended or 30 s later (`grpc.max_connection_age_ms`); 0: never. */
    readonly maxConnectionAgeMs: number;
  };
  readonly keys: {
    /** Grace of the previous keys after `tracenet keys rotate` when the command names none. */
    readonly rotationGraceMs: number;
    /** Longest grace this node grants a peer's previous keys, whatever the peer announces. */
    readonly maxGraceMs: number;
  };
  readonly authority: {
    /**
     * Address of the Authority API; loopback by default. Any other address is refused at start
     * unless `tls` names a certificate and key (docs/protocol.md 7.1).
     */
    readonly listen: string;
    /** TLS of the Authority port; all "" (the default): plaintext, loopback only. */
    readonly tls: {
      /** PEM certificate chain the port presents (relative to the data directory). */
      readonly certificate: string;
      /** Its PEM private key (relative to the data directory; mode 0600). */
      readonly key: string;
      /** PEM certificates of the authorities that sign client certificates; when set, a client without one is refused. */
      readonly clientCa: string;
    };
    /** Connections accepted at once. */
    readonly maxConnections: number;
    /** With TLS: connections from one address whose handshake has not finished. */
    readonly maxConnectionsPerAddress: number;
    /** With TLS: a handshake not done after this is closed. */
    readonly handshakeTimeoutMs: number;
    /** HTTP/2 streams (calls) open at once on one connection. */
    readonly maxStreamsPerConnection: number;
    /** A request message (of any call, also each message of an import) not fully arrived after this is cancelled. */
    readonly arrivalTimeoutMs: number;
    /** A connection without calls for this long is closed. */
    readonly idleTimeoutMs: number;
  };
  readonly envelope: {
    readonly maxBytes: number;
    readonly replayWindowMs: number;
    readonly defaultTtlMs: number;
  };
  readonly outbox: {
    readonly maxInFlightPerPeer: number;
    readonly initialBackoffMs: number;
    readonly maxBackoffMs: number;
    readonly attemptTimeoutMs: number;
  };
  readonly audit: {
    /** A signed checkpoint at least every this many entries (and at every stop). */
    readonly checkpointEvery: number;
    /** Refusals before authentication are written as one entry per source and interval of this length (docs/protocol.md 4.13). */
    readonly refusalIntervalMs: number;
    /** Sources counted apart per interval; further ones share one entry `other`. */
    readonly refusalSources: number;
  };
  readonly log: {
    readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  };
  readonly store: {
    /**
     * Flush every write to disk before it is acknowledged (fsync). Off only for benchmarks or
     * throw-away nodes: without it a power loss can lose what a receipt acknowledged.
     */
    readonly sync: boolean;
  };
  readonly workflow: {
    /** How often deadlines are checked, in milliseconds; 0 turns the timer off. */
    readonly deadlineCheckIntervalMs: number;
    /** First wait before an automatic answer is tried again when the registry could not answer; doubles up to 5 minutes. */
    readonly autoAnswerRetryMs: number;
  };
  /** The officers' web console (docs/console.md). */
  readonly console: {
    /** Address of the console, "host:port" (HTTPS); "" (the default): no console. */
    readonly listen: string;
    /** Its certificate and key (PEM, relative to the data directory); both "": the node's own self-signed certificate. */
    readonly tls: { readonly certificate: string; readonly key: string };
    /** An officer who does nothing in the console for this long is signed out. */
    readonly idleTimeoutMs: number;
    /**
     * The console's OpenID Connect redirect URI, `https://<console>/auth/oidc/callback`, registered
     * at the provider beside `access.oidc.redirectUri` (the CLI's loopback); "": the console signs in
     * through the provider with `access.oidc.redirectUri`, which must then be the console's.
     */
    readonly oidcRedirectUri: string;
  };
  readonly metrics: {
    /** Address of the Prometheus endpoint (plain HTTP, GET /metrics), "host:port"; "" disables it. */
    readonly listen: string;
  };
  /** Where the node finds weapon records for answers and searches (docs/integration.md). */
  readonly registry: {
    /** `leveldb` (the node's own records only), `postgres`, `csv`, or `module` (an integrator's adapter). */
    readonly adapter: 'leveldb' | 'postgres' | 'csv' | 'module';
    /** With another adapter, also consult the node's own records (asked first). */
    readonly includeLocal: boolean;
    /**
     * How often every adapter is checked, so that an outage shows in health, `tracenet status` and
     * the metrics while nobody searches; 0: only at start (calls still report it).
     */
    readonly healthCheckIntervalMs: number;
    /**
     * An automatic answer waiting this long for the registry sends the requester one delay notice
     * (reason OTHER, "the records are temporarily unavailable"); 0: never.
     */
    readonly outageDelayAfterMs: number;
    readonly postgres: {
      /** Connection URL; "" uses the PG* environment variables of libpq. May hold a password: never logged. */
      readonly url: string;
      /** The mapping file of the registry's tables (relative to the data directory). */
      readonly mapping: string;
      readonly poolSize: number;
      readonly statementTimeoutMs: number;
    };
    readonly csv: {
      /** Folder of CSV exports (relative to the data directory). */
      readonly folder: string;
    };
    /** An ES module (relative to the data directory) whose `createAdapter(context)` returns a RegistryAdapter. */
    readonly module: string;
  };
  /** What the node declares about its records in its peer card (docs/protocol.md 17.2). */
  readonly records: {
    /**
     * The earliest year each kind of record covers, by kind: `manufacture`, `import`, `export`,
     * `transfer`; e.g. `{ "manufacture": 1950, "import": 1985 }`. Empty (the default): the card
     * declares no records profile.
     */
    readonly profile: Readonly<Record<string, number>>;
  };
  /** Who may use the Authority API (docs/operations.md, "Accounts and approvals"). */
  readonly access: {
    /** Lifetime of an officer's session; the officer signs in again after it (docs/protocol.md 7.6). */
    readonly sessionTtlMs: number;
    /**
     * Sign-in through the state's identity provider with OpenID Connect (authorization code flow
     * with PKCE). Off while `issuer` is "".
     */
    readonly oidc: {
      /** The provider's issuer identifier: an https URL (http only on loopback, for tests); "" turns sign-in off. */
      readonly issuer: string;
      /** This node's client id at the provider. */
      readonly clientId: string;
      /** Its client secret; "" for a public client (PKCE only). Never logged; prefer the environment variable. */
      readonly clientSecret: string;
      /** The redirect URI registered at the provider; `tracenet login --oidc` listens on it when it is a loopback http URL. */
      readonly redirectUri: string;
      /** The claim (of the ID token, else of the UserInfo response) naming the user's groups or roles; a dotted path reaches a nested claim (`realm_access.roles`). */
      readonly rolesClaim: string;
      /** Claim value → Tracenet roles. A user none of whose values is here gets no session. */
      readonly roleMap: Readonly<Record<string, readonly (typeof ROLES)[number][]>>;
      /** Scopes asked for; must include `openid`. */
      readonly scopes: readonly string[];
    };
  };
}

/** Defaults of every key. */
export const DEFAULT_CONFIG: NodeConfig = {
  federation: {
    listen: '127.0.0.1:7443',
    advertise: [],
    name: '',
    rosterKey: '',
    rosterKeyFile: '',
    rosterGraceMs: 3 * 86_400_000,
    maxConnections: 256,
    maxConnectionsPerAddress: 8,
    maxConnectionsPerPeer: 4,
    handshakeTimeoutMs: 5000,
    maxStreamsPerConnection: 16,
    maxArrivingPerPeer: 2,
    arrivalTimeoutMs: 10_000,
    idleTimeoutMs: 300_000,
    maxConnectionAgeMs: 3_600_000,
  },
  keys: { rotationGraceMs: 86_400_000, maxGraceMs: 7 * 86_400_000 },
  authority: {
    listen: '127.0.0.1:7444',
    tls: { certificate: '', key: '', clientCa: '' },
    maxConnections: 64,
    maxConnectionsPerAddress: 8,
    handshakeTimeoutMs: 5000,
    maxStreamsPerConnection: 32,
    arrivalTimeoutMs: 30_000,
    idleTimeoutMs: 900_000,
  },
  envelope: { maxBytes: DEFAULT_MAX_ENVELOPE_BYTES, replayWindowMs: 5 * 60_000, defaultTtlMs: 14 * 86_400_000 },
  outbox: { maxInFlightPerPeer: 32, initialBackoffMs: 200, maxBackoffMs: 5000, attemptTimeoutMs: 10_000 },
  audit: { checkpointEvery: 1000, refusalIntervalMs: 60_000, refusalSources: 100 },
  log: { level: 'info' },
  store: { sync: true },
  workflow: { deadlineCheckIntervalMs: 60_000, autoAnswerRetryMs: 5000 },
  console: { listen: '', tls: { certificate: '', key: '' }, idleTimeoutMs: 15 * 60_000, oidcRedirectUri: '' },
  metrics: { listen: '127.0.0.1:9464' },
  registry: {
    adapter: 'leveldb',
    includeLocal: true,
    healthCheckIntervalMs: 30_000,
    outageDelayAfterMs: 15 * 60_000,
    postgres: { url: '', mapping: 'registry-mapping.json', poolSize: 4, statementTimeoutMs: 5000 },
    csv: { folder: 'registry' },
    module: 'registry-adapter.js',
  },
  records: { profile: {} },
  access: {
    sessionTtlMs: 3_600_000,
    oidc: {
      issuer: '',
      clientId: '',
      clientSecret: '',
      redirectUri: 'http://127.0.0.1:7450/oidc/callback',
      rolesClaim: 'roles',
      roleMap: {},
      scopes: ['openid', 'profile'],
    },
  },
};

type Rule = (value: unknown) => string | undefined;

const hostPort: Rule = (v) =>
  typeof v === 'string' &&
  /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/.test(v) &&
  Number(v.split(':').pop()) <= 65535
    ? undefined
    : 'must be "host:port"';
const hostPorts: Rule = (v) =>
  Array.isArray(v) ? v.map(hostPort).find((e) => e !== undefined) : 'must be a list of "host:port"';
const integer =
  (min: number, max: number): Rule =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max
      ? undefined
      : `must be an integer from ${min} to ${max}`;
const boolean: Rule = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');
const path: Rule = (v) => (typeof v === 'string' && v !== '' ? undefined : 'must be a path');
const optionalPath: Rule = (v) => (typeof v === 'string' ? undefined : 'must be a path, or ""');
const oneOf =
  (values: readonly string[]): Rule =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? undefined : `must be one of ${values.join(', ')}`;

/** Every key with its rule. Keys are dotted paths; env var = TRACENET_ + path in UPPER_SNAKE. */
const RULES: Record<string, Rule> = {
  'federation.listen': hostPort,
  'federation.advertise': hostPorts,
  'federation.name': (v) =>
    typeof v === 'string' && v.length <= 128 && unsafeCharacter(v) === undefined
      ? undefined
      : 'must be at most 128 characters without control or format characters, or ""',
  'federation.rosterKey': (v) =>
    v === '' || (typeof v === 'string' && rosterKeyBytes(v) !== undefined)
      ? undefined
      : 'must be an Ed25519 public key: 64 hex or 44 base64 characters, or ""',
  'federation.rosterKeyFile': optionalPath,
  'federation.rosterGraceMs': integer(0, 365 * 86_400_000),
  'federation.maxConnections': integer(1, 65_536),
  'federation.maxConnectionsPerAddress': integer(1, 65_536),
  'federation.maxConnectionsPerPeer': integer(1, 65_536),
  'federation.handshakeTimeoutMs': integer(100, 600_000),
  'federation.maxStreamsPerConnection': integer(1, 1000),
  'federation.maxArrivingPerPeer': integer(1, 1000),
  'federation.arrivalTimeoutMs': integer(100, 600_000),
  'federation.idleTimeoutMs': integer(1000, 86_400_000),
  'federation.maxConnectionAgeMs': integer(0, 30 * 86_400_000),
  'access.sessionTtlMs': integer(60_000, 86_400_000),
  'keys.rotationGraceMs': integer(60_000, 30 * 86_400_000),
  'keys.maxGraceMs': integer(0, 30 * 86_400_000),
  'authority.listen': hostPort,
  'authority.tls.certificate': optionalPath,
  'authority.tls.key': optionalPath,
  'authority.tls.clientCa': optionalPath,
  'authority.maxConnections': integer(1, 65_536),
  'authority.maxConnectionsPerAddress': integer(1, 65_536),
  'authority.handshakeTimeoutMs': integer(100, 600_000),
  'authority.maxStreamsPerConnection': integer(1, 1000),
  'authority.arrivalTimeoutMs': integer(100, 600_000),
  'authority.idleTimeoutMs': integer(1000, 86_400_000),
  'envelope.maxBytes': integer(1024, 64 * 1024 * 1024),
  'envelope.replayWindowMs': integer(1000, 86_400_000),
  'envelope.defaultTtlMs': integer(60_000, 365 * 86_400_000),
  'outbox.maxInFlightPerPeer': integer(1, 1024),
  'outbox.initialBackoffMs': integer(10, 60_000),
  'outbox.maxBackoffMs': integer(100, 3_600_000),
  'outbox.attemptTimeoutMs': integer(100, 600_000),
  'audit.checkpointEvery': integer(1, 1_000_000),
  'audit.refusalIntervalMs': integer(1000, 86_400_000),
  'audit.refusalSources': integer(1, 100_000),
  'log.level': oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  'store.sync': boolean,
  'workflow.deadlineCheckIntervalMs': integer(0, 86_400_000),
  'workflow.autoAnswerRetryMs': integer(100, 300_000),
  'console.listen': (v) => (v === '' ? undefined : hostPort(v) && 'must be "host:port", or "" for no console'),
  'console.tls.certificate': optionalPath,
  'console.tls.key': optionalPath,
  'console.idleTimeoutMs': integer(60_000, 86_400_000),
  'console.oidcRedirectUri': (v) =>
    v === ''
      ? undefined
      : (webUrl(v, 'must be an https URL (http only on loopback) ending in /auth/oidc/callback, or ""') ??
        (new URL(v as string).pathname === '/auth/oidc/callback'
          ? undefined
          : "must end in /auth/oidc/callback, the console's callback path")),
  'metrics.listen': (v) => (v === '' ? undefined : hostPort(v) && 'must be "host:port", or "" to disable'),
  'registry.adapter': oneOf(['leveldb', 'postgres', 'csv', 'module']),
  'registry.includeLocal': boolean,
  'registry.healthCheckIntervalMs': (v) =>
    v === 0 || integer(1000, 86_400_000)(v) === undefined ? undefined : 'must be 0 or an integer from 1000 to 86400000',
  'registry.outageDelayAfterMs': integer(0, 30 * 86_400_000),
  'registry.postgres.url': (v) =>
    typeof v === 'string' && (v === '' || /^postgres(ql)?:\/\//.test(v))
      ? undefined
      : 'must be a postgres:// URL, or "" for the PG* environment variables',
  'registry.postgres.mapping': path,
  'registry.postgres.poolSize': integer(1, 100),
  'registry.postgres.statementTimeoutMs': integer(100, 600_000),
  'registry.csv.folder': path,
  'registry.module': path,
  'access.oidc.issuer': (v) =>
    v === '' ? undefined : webUrl(v, 'must be an https URL (http only on loopback), or "" to turn sign-in off'),
  'access.oidc.clientId': (v) =>
    typeof v === 'string' && v.length <= 256 && unsafeCharacter(v) === undefined
      ? undefined
      : 'must be at most 256 characters without control or format characters',
  'access.oidc.clientSecret': (v) => (typeof v === 'string' && v.length <= 1024 ? undefined : 'must be a string'),
  'access.oidc.redirectUri': (v) => webUrl(v, 'must be an https URL, or an http URL on loopback'),
  'access.oidc.rolesClaim': (v) =>
    typeof v === 'string' && /^[^\s.]+(\.[^\s.]+)*$/.test(v) && v.length <= 256
      ? undefined
      : 'must be a claim name, or a dotted path to a nested claim',
  'access.oidc.roleMap': (v) => {
    const problem = `must be an object mapping claim values to lists of roles (${ROLES.join(', ')})`;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return problem;
    for (const [value, roles] of Object.entries(v)) {
      if (value === '' || value.length > 256 || unsafeCharacter(value) !== undefined) return problem;
      if (!Array.isArray(roles) || roles.length === 0) return `${problem}; "${value}" names none`;
      const unknown = roles.find((r) => !(ROLES as readonly unknown[]).includes(r));
      if (unknown !== undefined) return `${problem}; "${value}" names ${JSON.stringify(unknown)}`;
    }
    return undefined;
  },
  'records.profile': (v) => {
    const problem = `must be an object of record kinds (${RECORD_KINDS.join(', ')}) to earliest years from 1800 to 9999`;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return problem;
    for (const [kind, year] of Object.entries(v))
      if (!(RECORD_KINDS as readonly string[]).includes(kind) || !Number.isInteger(year) || year < 1800 || year > 9999)
        return `${problem}; ${JSON.stringify(kind)} is ${JSON.stringify(year)}`;
    return undefined;
  },
  'access.oidc.scopes': (v) =>
    Array.isArray(v) &&
    v.includes('openid') &&
    v.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))
      ? undefined
      : 'must be a list of scopes that includes openid',
};

/** Keys whose value is an object of the user's own keys, taken whole from a file (not flattened). */
const OBJECT_KEYS: ReadonlySet<string> = new Set(['access.oidc.roleMap', 'records.profile']);

/** An https URL, or an http URL on loopback (a test provider, the CLI's redirect listener). */
function webUrl(v: unknown, problem: string): string | undefined {
  if (typeof v !== 'string') return problem;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return problem;
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') return problem;
  if (url.protocol === 'https:') return undefined;
  return url.protocol === 'http:' && isLoopbackHost(url.hostname) ? undefined : problem;
}

/** Whether a URL's host name is a loopback address or `localhost`. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** The 32 bytes of a roster key written as hex or base64, or undefined when it is neither. */
export function rosterKeyBytes(text: string): Buffer | undefined {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/]{43}=?$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : undefined;
  return bytes?.length === 32 ? bytes : undefined;
}

/** The environment variable of a key: `outbox.maxBackoffMs` → `TRACENET_OUTBOX_MAX_BACKOFF_MS`. */
export function envName(key: string): string {
  return `TRACENET_${key
    .replace(/\./g, '_')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase()}`;
}

function configError(key: string, source: string, problem: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `configuration key ${key} (from ${source}) ${problem}`, {
    field: key,
    rule: 'config',
  });
}

function parseEnv(key: string, raw: string): unknown {
  const sample = getPath(DEFAULT_CONFIG, key);
  if (typeof sample === 'number') return raw.trim() === '' ? Number.NaN : Number(raw);
  if (Array.isArray(sample))
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if (typeof sample === 'boolean')
    return ({ true: true, false: false } as Record<string, boolean>)[raw.trim().toLowerCase()] ?? raw;
  if (OBJECT_KEYS.has(key)) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function getPath(object: unknown, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>(
      (o, part) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[part] : undefined),
      object,
    );
}

function setPath(object: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  const last = parts.pop() as string;
  let target = object;
  for (const part of parts) target = (target[part] ??= {}) as Record<string, unknown>;
  target[last] = value;
}

/**
 * Builds the configuration: defaults, then the file (if any), then environment variables, then
 * `overrides` (command-line flags). Every value is validated; an unknown key or a bad value is
 * refused with an error that names the key and where it came from.
 */
export async function loadConfig(options: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Readonly<Record<string, unknown>>;
}): Promise<NodeConfig> {
  const config = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  const apply = (key: string, value: unknown, source: string) => {
    // Own keys only: "toString" or "constructor" must not find Object.prototype's functions.
    const rule = Object.hasOwn(RULES, key) ? RULES[key] : undefined;
    if (!rule) throw configError(key, source, 'is not a known key');
    const problem = rule(value);
    if (problem) throw configError(key, source, problem);
    setPath(config, key, value);
  };
  if (options.file) {
    let text: string | undefined;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (cause) {
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${options.file} is not valid JSON`, {
          field: options.file,
          rule: 'config',
          cause,
        });
      }
      const flatten = (value: unknown, prefix: string): void => {
        if (value && typeof value === 'object' && !Array.isArray(value) && !OBJECT_KEYS.has(prefix)) {
          for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k);
        } else apply(prefix, value, options.file as string);
      };
      flatten(parsed, '');
    }
  }
  const env = options.env ?? {};
  for (const key of Object.keys(RULES)) {
    const raw = env[envName(key)];
    if (raw !== undefined) apply(key, parseEnv(key, raw), envName(key));
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) apply(key, value, 'command line');
  }
  const result = config as unknown as NodeConfig;
  checkOidc(result.access.oidc);
  return result;
}

/**
 * Sign-in through an identity provider needs its other keys once `access.oidc.issuer` is set: a
 * client id and at least one claim value mapped to roles (otherwise nobody could sign in).
 */
function checkOidc(oidc: NodeConfig['access']['oidc']): void {
  if (oidc.issuer === '') return;
  if (oidc.clientId === '')
    throw configError('access.oidc.clientId', 'the configuration', 'is required when access.oidc.issuer is set');
  if (Object.keys(oidc.roleMap).length === 0)
    throw configError(
      'access.oidc.roleMap',
      'the configuration',
      'must map at least one claim value to roles when access.oidc.issuer is set',
    );
}
