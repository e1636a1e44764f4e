/**
 * Officers and clients as users (issue 17, section 1; docs/protocol.md 7.1, 7.6): TOTP against
 * RFC 6238's own vectors, scrypt password hashes, and a real node (real LevelDB, gRPC on loopback,
 * a manual clock) on which officers sign in with a password and a TOTP code, back off and lock
 * after failed attempts, lose their sessions when disabled, and hold roles that the one
 * permission table checks on every service; clients use API keys that expire and are revoked;
 * the bootstrap token works only until the first administrator exists. Nothing secret reaches
 * the log or the audit log.
 */
import { connect as http2Connect } from 'node:http2';
import { Writable } from 'node:stream';
import { Client, credentials, Metadata, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import {
  AccessClient,
  type AccessServer,
  AccessService,
  AuthorityClient,
  type AuthorityServer,
  AuthorityService,
  CasesClient,
  type CasesServer,
  CasesService,
  ErrorCode,
  ListCasesRequest,
  ListHitsRequest,
  LookupRequest,
  AnswerCaseRequest,
  LookupsClient,
  type LookupsServer,
  LookupsService,
  RecordsClient,
  type RecordsServer,
  RecordsService,
  SearchRecordsRequest,
  TracenetError,
} from '@tracenet/proto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCKOUT_MS } from '../../src/access/access-control.js';
import type { Actor } from '../../src/access/actor.js';
import { hashPassword, verifyPassword } from '../../src/access/passwords.js';
import { authorize, PERMISSIONS } from '../../src/access/permissions.js';
import { base32Decode, base32Encode, matchTotp, totp, totpStep } from '../../src/access/totp.js';
import { admit } from '../../src/api/grpc-handlers.js';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { TracenetNode } from '../../src/node.js';
import { ManualClock } from '../../src/util/clock.js';
import { makeDataDir, testConfig } from '../support/nodes.js';

describe('TOTP (RFC 6238)', () => {
  // RFC 6238 appendix B: the seeds are the ASCII digits, 20, 32 and 64 bytes long; 8 digits.
  const seed = (length: number) => Buffer.from('1234567890'.repeat(7).slice(0, length), 'ascii');
  const vectors: Array<[number, string, string, string]> = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  it.each(vectors)('at %i s gives the vectors of SHA-1, SHA-256 and SHA-512', (seconds, sha1, sha256, sha512) => {
    const at = seconds * 1000;
    expect(totp(seed(20), at, { digits: 8 })).toBe(sha1);
    expect(totp(seed(32), at, { digits: 8, algorithm: 'sha256' })).toBe(sha256);
    expect(totp(seed(64), at, { digits: 8, algorithm: 'sha512' })).toBe(sha512);
  });

  it('accepts one step of drift either side, never an older step, never a replayed one', () => {
    const secret = base32Encode(seed(20));
    expect(base32Decode(secret)).toEqual(seed(20));
    const at = 1_111_111_111_000;
    const step = totpStep(at);
    const code = (s: number) => totp(seed(20), s * 30_000);
    expect(matchTotp(secret, code(step), at, 0)).toBe(step);
    expect(matchTotp(secret, code(step - 1), at, 0)).toBe(step - 1);
    expect(matchTotp(secret, code(step + 1), at, 0)).toBe(step + 1);
    expect(matchTotp(secret, code(step - 2), at, 0)).toBeUndefined();
    expect(matchTotp(secret, code(step), at, step)).toBeUndefined();
    expect(matchTotp(secret, '12345', at, 0)).toBeUndefined();
    expect(matchTotp(secret, 'abcdef', at, 0)).toBeUndefined();
  });
});

describe('passwords (scrypt)', () => {
  it('hashes with a salt and parameters, verifies, and refuses a wrong password', async () => {
    const cost = { N: 1024, r: 8, p: 1 };
    const a = await hashPassword('a long enough password', cost);
    const b = await hashPassword('a long enough password', cost);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('password');
    expect(await verifyPassword('a long enough password', a)).toBe(true);
    expect(await verifyPassword('a long enough passwore', a)).toBe(false);
    expect(await verifyPassword('a long enough password', 'scrypt$1$2')).toBe(false);
  });
});

/** Every service served on the Authority port, with its definition. */
const SERVICES: Array<[string, ServiceDefinition]> = [
  ['Authority', AuthorityService],
  ['Cases', CasesService],
  ['Records', RecordsService],
  ['Lookups', LookupsService],
  ['Access', AccessService],
];
const METHODS = SERVICES.flatMap(([, definition]) =>
  Object.values(definition).map((m) => ({
    path: m.path,
    requestStream: m.requestStream,
    responseStream: m.responseStream,
  })),
);

describe('the permission table', () => {
  it('has an entry for every method of every Authority-port service', () => {
    const missing = METHODS.filter((m) => PERMISSIONS[m.path] === undefined).map((m) => m.path);
    expect(missing).toEqual([]);
    expect(METHODS.length).toBeGreaterThan(50);
  });

  it('refuses a method it does not list to everyone, even with every role', () => {
    const all: Actor = {
      kind: 'bootstrap',
      id: '',
      roles: ['officer', 'supervisor', 'auditor', 'administrator'],
      session: '',
    };
    expect(() => authorize(all, '/tracenet.v1.Authority/Unlisted')).toThrow(/not open to any role/);
    const auditor: Actor = { kind: 'officer', id: 'a', roles: ['auditor'], session: 's' };
    expect(() => authorize(auditor, '/tracenet.v1.Cases/AnswerCase')).toThrow(/needs the role officer/);
    authorize(auditor, '/tracenet.v1.Cases/GetCase');
  });

  it('gives the auditor every read and no write, the supervisor the approvals', () => {
    const auditorMay = Object.entries(PERMISSIONS)
      .filter(([, p]) => Array.isArray(p) && p.includes('auditor'))
      .map(([path]) => path.split('/')[2]);
    for (const name of auditorMay) expect(name).toMatch(/^(Get|List|Search|Verify|Watch)/);
    expect(PERMISSIONS['/tracenet.v1.Cases/ApproveStep']).toEqual(['supervisor']);
  });
});

// ---------------------------------------------------------------------------------------------
// A real node

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const clock = new ManualClock(T0);
let node: TracenetNode;
let dataDir: string;
let bootstrap: string;
let address: string;
const logLines: string[] = [];
/** Every secret the tests see: none may appear in the log or the audit log. */
const secrets: string[] = [];
const closers: Array<{ close(): void }> = [];

function access(token: string): UnaryClient<AccessServer> {
  const c = connectUnary<AccessServer>(AccessClient, address, token);
  closers.push(c);
  return c;
}
function cases(token: string): UnaryClient<CasesServer> {
  const c = connectUnary<CasesServer>(CasesClient, address, token);
  closers.push(c);
  return c;
}
function authority(token: string): UnaryClient<AuthorityServer> {
  const c = connectUnary<AuthorityServer>(AuthorityClient, address, token);
  closers.push(c);
  return c;
}
function records(token: string): UnaryClient<RecordsServer> {
  const c = connectUnary<RecordsServer>(RecordsClient, address, token);
  closers.push(c);
  return c;
}
function lookups(token: string): UnaryClient<LookupsServer> {
  const c = connectUnary<LookupsServer>(LookupsClient, address, token);
  closers.push(c);
  return c;
}

/** The refusal of `promise`, as a TracenetError with code and rule. */
async function refusal(promise: Promise<unknown>): Promise<{ code: ErrorCode; rule: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = TracenetError.from(error);
    return { code: e.code, rule: e.rule, message: e.message };
  }
  throw new Error('expected a refusal');
}

/** Calls any method by path with an empty request (streams: opens and half-closes); resolves with the status code and rule. */
function rawCall(
  method: { path: string; requestStream: boolean; responseStream: boolean },
  token: string,
): Promise<{ code: ErrorCode | 'OK'; rule: string }> {
  const client = new Client(address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const serialize = (b: Buffer) => b;
  const deserialize = (b: Buffer) => b;
  return new Promise((resolve) => {
    const done = (error: ServiceError | null) => {
      client.close();
      if (!error) return resolve({ code: 'OK', rule: '' });
      const e = TracenetError.from(error);
      resolve({ code: e.code, rule: e.rule });
    };
    const options = { deadline: Date.now() + 10_000 };
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(method.path, serialize, deserialize, Buffer.alloc(0), metadata, options, done);
    } else if (!method.requestStream) {
      const stream = client.makeServerStreamRequest(
        method.path,
        serialize,
        deserialize,
        Buffer.alloc(0),
        metadata,
        options,
      );
      stream.on('data', () => {
        stream.cancel();
        done(null);
      });
      stream.on('error', (e: ServiceError) => done(e));
      stream.on('end', () => done(null));
    } else {
      const stream = client.makeBidiStreamRequest(method.path, serialize, deserialize, metadata, options);
      stream.on('data', () => undefined);
      stream.on('error', (e: ServiceError) => done(e));
      stream.on('end', () => done(null));
      stream.end();
    }
  });
}

async function auditLines(): Promise<string[]> {
  return (await node.store.audit.entries.all()).map((e) => e.line);
}

beforeAll(async () => {
  dataDir = await makeDataDir('FRA', T0);
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(String(chunk));
      callback();
    },
  });
  node = await TracenetNode.open({ dataDir, config: testConfig(), logger: pino({ level: 'trace' }, sink), clock });
  await node.start();
  address = node.authorityAddress;
  bootstrap = await readAuthorityToken(dataDir);
  secrets.push(bootstrap);
});

afterAll(async () => {
  for (const c of closers) c.close();
  await node.stop();
});

const ADMIN_PASSWORD = 'the administrator password';
const OFFICER_PASSWORD = 'an officer password here';
let adminSecret = '';
/** The TOTP code of `secret` at the clock's time. */
const codeOf = (secret: string, at = clock.now()) => totp(base32Decode(secret), at);

async function signIn(officerId: string, password: string, secret = ''): Promise<string> {
  const response = await access('').call('login', {
    officerId,
    password,
    totpCode: secret === '' ? '' : codeOf(secret),
  });
  secrets.push(response.sessionToken);
  return response.sessionToken;
}

describe('a node with accounts (real LevelDB, gRPC on loopback)', () => {
  it('is in setup mode until the first administrator exists, then refuses the bootstrap token', async () => {
    const who = await access(bootstrap).call('whoAmI', {});
    expect(who).toMatchObject({ kind: 'bootstrap', setupMode: true, language: '' });
    expect(await refusal(access(bootstrap).call('setMyLanguage', { language: 'en' }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_FORBIDDEN,
      rule: 'officer_only',
    });
    // Even in setup mode, a call without a token is refused.
    expect(await refusal(access('').call('whoAmI', {}))).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHORIZED,
      rule: 'bearer_token',
    });
    expect(who.roles).toEqual(['officer', 'supervisor', 'auditor', 'administrator']);
    // An officer does not end setup mode.
    await access(bootstrap).call('addOfficer', {
      officerId: 'olga',
      displayName: 'Olga Officer',
      roles: ['officer'],
      password: OFFICER_PASSWORD,
      requireTotp: false,
    });
    expect((await access(bootstrap).call('whoAmI', {})).setupMode).toBe(true);
    const added = await access(bootstrap).call('addOfficer', {
      officerId: 'adam',
      displayName: 'Adam Admin',
      roles: ['administrator'],
      password: ADMIN_PASSWORD,
      requireTotp: false,
    });
    // TOTP is required by default for an administrator: the secret comes back once.
    expect(added.officer?.totpRequired).toBe(true);
    expect(added.totpSecret).toMatch(/^[A-Z2-7]{32}$/);
    expect(added.totpUri).toContain('otpauth://totp/');
    adminSecret = added.totpSecret;
    secrets.push(adminSecret);
    expect(await refusal(access(bootstrap).call('whoAmI', {}))).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHORIZED,
      rule: 'bootstrap_retired',
    });
    // Refused from the metadata on every service, streaming ones included.
    expect(
      await rawCall(
        { path: '/tracenet.v1.Authority/WatchEvents', requestStream: false, responseStream: true },
        bootstrap,
      ),
    ).toEqual({
      code: ErrorCode.ERROR_CODE_UNAUTHORIZED,
      rule: 'bootstrap_retired',
    });
    const lines = await auditLines();
    expect(lines.filter((l) => l.includes('"access.setup_ended"'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('"officer.added"') && l.includes('"adam"'))).toBe(true);
  });

  it('signs an administrator in with password and TOTP code, and refuses a missing, wrong or replayed code', async () => {
    const anon = access('');
    expect(
      await refusal(anon.call('login', { officerId: 'adam', password: ADMIN_PASSWORD, totpCode: '' })),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAUTHORIZED, rule: 'totp_required' });
    clock.advance(2000);
    const wrong = String((Number(codeOf(adminSecret)) + 1) % 1_000_000).padStart(6, '0');
    expect(
      await refusal(anon.call('login', { officerId: 'adam', password: ADMIN_PASSWORD, totpCode: wrong })),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAUTHORIZED, rule: 'credentials' });
    clock.advance(60_000);
    const code = codeOf(adminSecret);
    const login = await anon.call('login', { officerId: 'adam', password: ADMIN_PASSWORD, totpCode: code });
    secrets.push(login.sessionToken);
    expect(login.sessionToken).toMatch(/^tns_[A-Za-z0-9_-]{43}$/);
    expect(login.expiresAtMs).toBe(clock.now() + 60 * 60_000);
    expect(login.officer?.failedAttempts).toBe(0);
    const who = await access(login.sessionToken).call('whoAmI', {});
    expect(who).toMatchObject({ kind: 'officer', id: 'adam', session: login.sessionId, setupMode: false });
    // The same code again (a replay) is refused, even with the right password.
    expect(
      await refusal(anon.call('login', { officerId: 'adam', password: ADMIN_PASSWORD, totpCode: code })),
    ).toMatchObject({ rule: 'credentials' });
    // The session is stored as a digest only.
    const stored = JSON.stringify(await node.store.access.sessions.all());
    expect(stored).not.toContain(login.sessionToken.slice(4));
  });

  it('backs off after each failed sign-in and locks the account after five, on logical time', async () => {
    clock.advance(60_000);
    const anon = access('');
    const attempt = (password: string) => refusal(anon.call('login', { officerId: 'olga', password, totpCode: '' }));
    expect(await attempt('wrong password number 1')).toMatchObject({ rule: 'credentials' });
    // Within the back-off nothing is checked, not even the right password.
    expect(await attempt(OFFICER_PASSWORD)).toMatchObject({
      code: ErrorCode.ERROR_CODE_RATE_LIMITED,
      rule: 'login_backoff',
    });
    for (const [i, backoffMs] of [1000, 2000, 4000].entries()) {
      clock.advance(backoffMs - 1);
      expect(await attempt(OFFICER_PASSWORD)).toMatchObject({ rule: 'login_backoff' });
      clock.advance(1);
      expect(await attempt(`wrong password number ${i + 2}`)).toMatchObject({ rule: 'credentials' });
    }
    clock.advance(8000);
    expect(await attempt('wrong password number 5')).toMatchObject({ rule: 'credentials' });
    expect(node.access.officer('olga')).toMatchObject({ failedAttempts: 5, lockedUntilMs: clock.now() + LOCKOUT_MS });
    clock.advance(LOCKOUT_MS - 1);
    const locked = await attempt(OFFICER_PASSWORD);
    expect(locked).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAUTHORIZED, rule: 'account_locked' });
    expect(locked.message).not.toContain(OFFICER_PASSWORD);
    clock.advance(1);
    await signIn('olga', OFFICER_PASSWORD);
    expect(node.access.officer('olga')).toMatchObject({ failedAttempts: 0, lockedUntilMs: 0 });
    const lines = await auditLines();
    expect(lines.filter((l) => l.includes('"officer.sign_in_failed"') && l.includes('"olga"'))).toHaveLength(5);
    expect(lines.filter((l) => l.includes('"officer.locked"'))).toHaveLength(1);
    // An unknown officer is answered like a wrong password, and audited without the id typed.
    expect(
      await refusal(anon.call('login', { officerId: 'nobody', password: 'whatever it is', totpCode: '' })),
    ).toMatchObject({
      rule: 'credentials',
    });
  });

  it('lets only an administrator reset a password, which clears a lockout and ends the sessions', async () => {
    clock.advance(60_000);
    const admin = await signIn('adam', ADMIN_PASSWORD, adminSecret);
    const olga = await signIn('olga', OFFICER_PASSWORD);
    expect(
      await refusal(
        access(olga).call('resetOfficerPassword', {
          officerId: 'olga',
          password: 'my own new password',
          resetTotp: false,
        }),
      ),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN, rule: 'role' });
    await access(admin).call('resetOfficerPassword', {
      officerId: 'olga',
      password: 'a fresh officer password',
      resetTotp: false,
    });
    expect(await refusal(access(olga).call('whoAmI', {}))).toMatchObject({ rule: 'session_revoked' });
    expect(
      await refusal(
        access(admin).call('resetOfficerPassword', { officerId: 'olga', password: 'short', resetTotp: false }),
      ),
    ).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      rule: 'password_length',
    });
    await signIn('olga', 'a fresh officer password');
    expect((await auditLines()).some((l) => l.includes('"officer.password_reset"'))).toBe(true);
  });

  it('refuses a disabled officer at sign-in and ends its sessions at once', async () => {
    clock.advance(60_000);
    const admin = await signIn('adam', ADMIN_PASSWORD, adminSecret);
    const olga = await signIn('olga', 'a fresh officer password');
    await access(admin).call('disableOfficer', { officerId: 'olga', enable: false });
    expect(await refusal(cases(olga).call('listCases', ListCasesRequest.fromPartial({})))).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHORIZED,
      rule: 'session_revoked',
    });
    clock.advance(60_000);
    expect(
      await refusal(
        access('').call('login', { officerId: 'olga', password: 'a fresh officer password', totpCode: '' }),
      ),
    ).toMatchObject({ rule: 'officer_disabled' });
    // The last administrator can be neither disabled nor stripped of the role.
    expect(await refusal(access(admin).call('disableOfficer', { officerId: 'adam', enable: false }))).toMatchObject({
      rule: 'last_administrator',
    });
    expect(
      await refusal(access(admin).call('setOfficerRoles', { officerId: 'adam', roles: ['officer'] })),
    ).toMatchObject({
      rule: 'last_administrator',
    });
    await access(admin).call('disableOfficer', { officerId: 'olga', enable: true });
    clock.advance(60_000);
    await signIn('olga', 'a fresh officer password');
  });

  it('ends a session when it expires or its officer signs out', async () => {
    clock.advance(60_000);
    const olga = await signIn('olga', 'a fresh officer password');
    clock.advance(60 * 60_000 - 1);
    await cases(olga).call('listCases', ListCasesRequest.fromPartial({}));
    clock.advance(1);
    expect(await refusal(cases(olga).call('listCases', ListCasesRequest.fromPartial({})))).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHORIZED,
      rule: 'session_expired',
    });
    const again = await signIn('olga', 'a fresh officer password');
    expect((await access(again).call('logout', {})).sessionId).toMatch(/^ses_/);
    expect(await refusal(access(again).call('whoAmI', {}))).toMatchObject({ rule: 'session_revoked' });
    // A session lifetime after they ended, ended sessions leave memory and the store.
    await node.access.purgeEnded();
    const storedBefore = await node.store.access.sessions.count();
    // Still refused precisely within a session lifetime after it ended.
    expect(await node.access.purgeEnded()).toBe(0);
    clock.advance(60 * 60_000);
    expect(await node.access.purgeEnded()).toBeGreaterThanOrEqual(2);
    expect(await node.store.access.sessions.count()).toBeLessThan(storedBefore);
    expect(await refusal(access(again).call('whoAmI', {}))).toMatchObject({ rule: 'bearer_token' });
    expect(await refusal(access(`tns_${'A'.repeat(43)}`).call('whoAmI', {}))).toMatchObject({ rule: 'bearer_token' });
  });

  it('gives clients API keys with roles and an expiry; a revoked or expired key is refused', async () => {
    clock.advance(60_000);
    const admin = await signIn('adam', ADMIN_PASSWORD, adminSecret);
    const added = await access(admin).call('addClient', {
      clientId: 'case-system',
      roles: ['officer'],
      expiresAtMs: clock.now() + 24 * 3600_000,
    });
    const key = added.apiKey;
    secrets.push(key);
    expect(key).toMatch(/^tnk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(await access(key).call('whoAmI', {})).toMatchObject({
      kind: 'client',
      id: 'case-system',
      session: added.client?.keyId,
    });
    await cases(key).call('listCases', ListCasesRequest.fromPartial({}));
    // A console language is an officer's: a client (and the bootstrap token) has none to set.
    expect(await refusal(access(key).call('setMyLanguage', { language: 'fr' }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_FORBIDDEN,
      rule: 'officer_only',
    });
    expect((await access(key).call('whoAmI', {})).language).toBe('');
    expect(await refusal(authority(key).call('addPeer', { card: undefined, replaceKeys: false }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_FORBIDDEN,
    });
    // A key with the right id and a wrong secret is refused.
    const forged = `${key.slice(0, 21)}${'B'.repeat(43)}`;
    expect(await refusal(access(forged).call('whoAmI', {}))).toMatchObject({ rule: 'bearer_token' });
    expect(
      await refusal(
        access(admin).call('addClient', { clientId: 'late', roles: ['auditor'], expiresAtMs: clock.now() }),
      ),
    ).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      rule: 'future',
    });
    expect((await access(admin).call('listClients', {})).clients.map((c) => c.clientId)).toEqual(['case-system']);
    await access(admin).call('revokeClient', { clientId: 'case-system' });
    expect(await refusal(cases(key).call('listCases', ListCasesRequest.fromPartial({})))).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHORIZED,
      rule: 'api_key_revoked',
    });
    const short = await access(admin).call('addClient', {
      clientId: 'script',
      roles: ['auditor'],
      expiresAtMs: clock.now() + 1000,
    });
    secrets.push(short.apiKey);
    await cases(short.apiKey).call('listCases', ListCasesRequest.fromPartial({}));
    clock.advance(1000);
    expect(await refusal(cases(short.apiKey).call('listCases', ListCasesRequest.fromPartial({})))).toMatchObject({
      rule: 'api_key_expired',
    });
    const lines = await auditLines();
    expect(lines.some((l) => l.includes('"client.added"') && l.includes(added.client?.keyId ?? '-'))).toBe(true);
    expect(lines.some((l) => l.includes('"client.revoked"'))).toBe(true);
  });

  it('allows and refuses each role on representative methods of every service, before reading the request', async () => {
    clock.advance(60_000);
    const admin = await signIn('adam', ADMIN_PASSWORD, adminSecret);
    const tokens: Record<string, string> = {};
    for (const role of ['officer', 'supervisor', 'auditor'] as const) {
      const added = await access(admin).call('addOfficer', {
        officerId: `${role}-1`,
        displayName: role,
        roles: [role],
        password: `password of the ${role}`,
        requireTotp: false,
      });
      tokens[role] = await signIn(`${role}-1`, `password of the ${role}`, added.totpSecret);
    }
    tokens.administrator = admin;
    const admitted = async (p: Promise<unknown>) => {
      try {
        await p;
        return true;
      } catch (error) {
        const code = TracenetError.from(error).code;
        return code !== ErrorCode.ERROR_CODE_FORBIDDEN && code !== ErrorCode.ERROR_CODE_UNAUTHORIZED;
      }
    };
    const table: Array<[string, (token: string) => Promise<unknown>, string[]]> = [
      [
        'Authority.ListPeers',
        (t) => authority(t).call('listPeers', {}),
        ['officer', 'supervisor', 'auditor', 'administrator'],
      ],
      [
        'Authority.AddPeer',
        (t) => authority(t).call('addPeer', { card: undefined, replaceKeys: false }),
        ['administrator'],
      ],
      ['Authority.SetPeerPolicy', (t) => authority(t).call('setPeerPolicy', { policy: undefined }), ['administrator']],
      [
        'Authority.SendNotice',
        (t) => authority(t).call('sendNotice', { recipient: '', subject: '', text: '', correlationId: '' }),
        ['officer'],
      ],
      [
        'Cases.GetCase',
        (t) => cases(t).call('getCase', { caseId: 'case-none' }),
        ['officer', 'supervisor', 'auditor', 'administrator'],
      ],
      ['Cases.AnswerCase', (t) => cases(t).call('answerCase', AnswerCaseRequest.fromPartial({})), ['officer']],
      [
        'Records.SearchRecords',
        (t) => records(t).call('searchRecords', SearchRecordsRequest.fromPartial({})),
        ['officer', 'supervisor', 'auditor', 'administrator'],
      ],
      ['Records.PutRecord', (t) => records(t).call('putRecord', { record: undefined }), ['officer']],
      [
        'Lookups.ListHits',
        (t) => lookups(t).call('listHits', ListHitsRequest.fromPartial({})),
        ['officer', 'supervisor', 'auditor', 'administrator'],
      ],
      ['Lookups.Lookup', (t) => lookups(t).call('lookup', LookupRequest.fromPartial({})), ['officer']],
      ['Access.ListOfficers', (t) => access(t).call('listOfficers', {}), ['auditor', 'administrator']],
      [
        'Access.AddClient',
        (t) => access(t).call('addClient', { clientId: '', roles: [], expiresAtMs: 0 }),
        ['administrator'],
      ],
    ];
    const outcome: Record<string, string[]> = {};
    const expected: Record<string, string[]> = {};
    for (const [name, call, allowed] of table) {
      expected[name] = allowed;
      outcome[name] = [];
      for (const role of ['officer', 'supervisor', 'auditor', 'administrator'])
        if (await admitted(call(tokens[role] ?? ''))) outcome[name]?.push(role);
    }
    expect(outcome).toEqual(expected);
    // The auditor changes nothing: every method outside its reads is refused FORBIDDEN from the
    // metadata (the empty request is never decoded), streams included.
    const auditorRefused = METHODS.filter((m) => {
      const p = PERMISSIONS[m.path];
      return Array.isArray(p) && !p.includes('auditor');
    });
    expect(auditorRefused.length).toBeGreaterThan(35);
    for (const method of auditorRefused)
      expect({ path: method.path, ...(await rawCall(method, tokens.auditor ?? '')) }).toEqual({
        path: method.path,
        code: ErrorCode.ERROR_CODE_FORBIDDEN,
        rule: 'role',
      });
    // The handler checks too (a service reached without the port's interceptor).
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${tokens.auditor}`);
    expect(() => admit(node.access, metadata, '/tracenet.v1.Records/PutRecord')).toThrow(TracenetError);
    expect(admit(node.access, metadata, '/tracenet.v1.Records/GetRecord')).toMatchObject({
      kind: 'officer',
      id: 'auditor-1',
    });
  });

  it('refuses a caller without the role from the metadata, while its request is still arriving', async () => {
    clock.advance(60_000);
    const auditor = await signIn('auditor-1', 'password of the auditor');
    const session = http2Connect(`http://${address}`);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/tracenet.v1.Records/PutRecord',
        'content-type': 'application/grpc',
        te: 'trailers',
        authorization: `Bearer ${auditor}`,
      });
      // A message announced as 1 MiB, of which only the length prefix is ever sent.
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(1024 * 1024, 1);
      stream.write(prefix);
      const status = await new Promise<string>((resolve) => {
        const take = (headers: Record<string, unknown>) => {
          if (headers['grpc-status'] !== undefined) resolve(String(headers['grpc-status']));
        };
        stream.on('response', take);
        stream.on('trailers', take);
      });
      // PERMISSION_DENIED, answered although the request never finished arriving.
      expect(status).toBe('7');
      stream.close();
    } finally {
      session.close();
    }
  });

  it('names the actor of a handler: runAs gives the audit the officer and session', async () => {
    clock.advance(60_000);
    const officer = await signIn('officer-1', 'password of the officer');
    const who = await access(officer).call('whoAmI', {});
    expect(who.roles).toEqual(['officer']);
    // The sign-in itself is audited under the officer's session (H stamps the actor on entries).
    const lines = await auditLines();
    expect(lines.some((l) => l.includes('"officer.signed_in"') && l.includes(who.session))).toBe(true);
  });

  it('keeps every token, password and secret out of the log and the audit log', async () => {
    const everything = [...logLines, ...(await auditLines())].join('\n');
    expect(logLines.length).toBeGreaterThan(10);
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of [...secrets, ADMIN_PASSWORD, OFFICER_PASSWORD, 'a fresh officer password'])
      expect(everything.includes(secret), 'a secret in the log').toBe(false);
    // Only the digests are stored.
    const stored = JSON.stringify([
      await node.store.access.clients.all(),
      await node.store.access.officers.all(),
      await node.store.access.sessions.all(),
    ]);
    for (const secret of secrets.filter((s) => s.startsWith('tns_') || s.startsWith('tnk_')))
      expect(stored.includes(secret.slice(-43))).toBe(false);
  });

  it('keeps accounts, sessions and keys across a restart; the bootstrap token stays retired', async () => {
    clock.advance(60_000);
    const officer = await signIn('officer-1', 'password of the officer');
    await node.stop();
    node = await TracenetNode.open({
      dataDir,
      config: testConfig({ access: { sessionTtlMs: 120_000 } }),
      logger: pino({ level: 'silent' }),
      clock,
    });
    await node.start();
    address = node.authorityAddress;
    expect((await access(officer).call('whoAmI', {})).id).toBe('officer-1');
    expect(await refusal(access(bootstrap).call('whoAmI', {}))).toMatchObject({ rule: 'bootstrap_retired' });
    expect(node.access.setupMode).toBe(false);
    // access.sessionTtlMs sets the lifetime of new sessions.
    const short = await access('').call('login', {
      officerId: 'officer-1',
      password: 'password of the officer',
      totpCode: '',
    });
    expect(short.expiresAtMs).toBe(clock.now() + 120_000);
  });
});
