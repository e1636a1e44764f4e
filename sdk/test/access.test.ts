import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { AccessService, CasesService, ListCasesRequest, ListCasesResponse, LoginResponse } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ErrorCode, signIn, TracenetError } from '../src/index.js';

/**
 * The SDK's credentials (docs/integration.md, "Authentication"): a session from signIn, an API
 * key, or a plain token, sent as `authorization: Bearer …` on every call. A fake Access and Cases
 * server on 127.0.0.1:0 records the header each call carried.
 */
describe('SDK authentication', () => {
  const server = new Server();
  const SESSION = `tns_${'s'.repeat(43)}`;
  const KEY = `tnk_${'0123456789abcdef'}_${'k'.repeat(43)}`;
  const seen: Array<[string, string]> = [];
  let address = '';
  const record = (method: string) => (call: { metadata: { get(k: string): unknown[] } }) =>
    seen.push([method, String(call.metadata.get('authorization')[0] ?? '')]);

  beforeAll(async () => {
    server.addService(AccessService, {
      login: (call: never, callback: (e: unknown, r?: unknown) => void) => {
        record('login')(call);
        callback(null, LoginResponse.fromPartial({ sessionToken: SESSION, sessionId: 'ses_1', expiresAtMs: 42 }));
      },
      logout: (call: never, callback: (e: unknown, r?: unknown) => void) => {
        record('logout')(call);
        callback(null, { sessionId: 'ses_1' });
      },
    } as unknown as UntypedServiceImplementation);
    server.addService(CasesService, {
      listCases: (call: never, callback: (e: unknown, r?: unknown) => void) => {
        record('listCases')(call);
        callback(null, ListCasesResponse.fromPartial({}));
      },
    } as unknown as UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => server.forceShutdown());

  it('signs in without a token, then calls and signs out with the session', async () => {
    seen.length = 0;
    const signedIn = await signIn({
      address,
      officerId: 'ana',
      password: 'a long enough password',
      totpCode: '123456',
    });
    expect(signedIn).toMatchObject({ sessionToken: SESSION, sessionId: 'ses_1', expiresAtMs: 42 });
    await signedIn.client.cases.listCases(ListCasesRequest.fromPartial({}));
    await signedIn.signOut();
    expect(seen).toEqual([
      ['login', ''],
      ['listCases', `Bearer ${SESSION}`],
      ['logout', `Bearer ${SESSION}`],
    ]);
  });

  it('sends an API key as the bearer token', async () => {
    seen.length = 0;
    const client = connect({ address, apiKey: KEY });
    await client.cases.listCases(ListCasesRequest.fromPartial({}));
    client.close();
    expect(seen).toEqual([['listCases', `Bearer ${KEY}`]]);
  });

  it('refuses no credential, two credentials, or a value of the wrong form, before any call', () => {
    const refused = (options: Parameters<typeof connect>[0]) => {
      try {
        connect(options).close();
      } catch (error) {
        const e = TracenetError.from(error);
        return [e.code, e.field, e.rule];
      }
      return 'accepted';
    };
    expect(refused({ address })).toEqual([ErrorCode.ERROR_CODE_INVALID_FIELD, 'token', 'one_credential']);
    expect(refused({ address, apiKey: KEY, sessionToken: SESSION })).toEqual([
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'apiKey',
      'one_credential',
    ]);
    expect(refused({ address, apiKey: SESSION })).toEqual([ErrorCode.ERROR_CODE_INVALID_FIELD, 'apiKey', 'api_key']);
    expect(refused({ address, sessionToken: KEY })).toEqual([
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'sessionToken',
      'session_token',
    ]);
    expect(refused({ address, token: 'bootstrap' })).toBe('accepted');
  });
});
