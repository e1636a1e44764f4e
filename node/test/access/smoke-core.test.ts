import {
  AccessClient,
  type AccessServer,
  CasesClient,
  type CasesServer,
  ErrorCode,
  ListCasesRequest,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUnary } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { startNode, type TestNode } from '../support/nodes.js';

let bed: TestNode;
beforeAll(async () => {
  bed = await startNode('FRA');
});
afterAll(() => bed.cleanup());

describe('access core smoke', () => {
  it('setup mode, first administrator, bootstrap retired', async () => {
    const token = await readAuthorityToken(bed.dataDir);
    const access = connectUnary<AccessServer>(AccessClient, bed.node.authorityAddress, token);
    expect((await access.call('whoAmI', {})).setupMode).toBe(true);
    await access.call('addOfficer', {
      officerId: 'ana',
      displayName: 'Ana',
      roles: ['officer'],
      password: 'a long enough password',
      requireTotp: false,
    });
    const anon = connectUnary<AccessServer>(AccessClient, bed.node.authorityAddress, '');
    const login = await anon.call('login', { officerId: 'ana', password: 'a long enough password', totpCode: '' });
    expect(login.sessionToken).toMatch(/^tns_[A-Za-z0-9_-]{43}$/);
    const cases = connectUnary<CasesServer>(CasesClient, bed.node.authorityAddress, login.sessionToken);
    expect((await cases.call('listCases', ListCasesRequest.fromPartial({}))).cases).toEqual([]);
    const ana = connectUnary<AccessServer>(AccessClient, bed.node.authorityAddress, login.sessionToken);
    await expect(ana.call('listOfficers', {})).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });
    await access.call('addOfficer', {
      officerId: 'boss',
      displayName: 'Boss',
      roles: ['administrator'],
      password: 'another long password',
      requireTotp: false,
    });
    await expect(access.call('whoAmI', {})).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAUTHORIZED });
    for (const c of [access, anon, cases, ana]) c.close();
  });
});
