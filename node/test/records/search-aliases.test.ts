import { join } from 'node:path';
import { credentials, Metadata, Server, ServerCredentials, type ServiceError } from '@grpc/grpc-js';
import {
  ErrorCode,
  RecordsClient,
  type SearchAliasesRequest,
  type SearchAliasesResponse,
  TracenetError,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRecordsService } from '../../src/api/records-service.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { AliasTables } from '../../src/lookup/aliases.js';
import { testLogger } from '../support/nodes.js';
import { type RecordBed, startRecordBed } from './support.js';

const TABLE = '# sample\nFN Herstal,FN,Fabrique Nationale,F.N.\nHeckler & Koch,H&K,HK\n"Star*Arms",Star\nGlock\n';

let bed: RecordBed;
let server: Server;
let client: RecordsClient;
let token: string;

function suggest(request: Partial<SearchAliasesRequest>): Promise<SearchAliasesResponse> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) =>
    client.searchAliases({ calibres: false, prefix: '', limit: 0, ...request }, metadata, (error, response) =>
      error ? reject(TracenetError.from(error as ServiceError)) : resolve(response),
    ),
  );
}

beforeAll(async () => {
  bed = await startRecordBed();
  const { dataDir, node } = bed.test;
  const aliases = new AliasTables({
    path: join(dataDir, 'aliases.csv'),
    calibrePath: join(dataDir, 'calibre-aliases.csv'),
    journal: node.journal,
    logger: testLogger(),
  });
  await aliases.init();
  await aliases.load(Buffer.from(TABLE));
  token = await readAuthorityToken(dataDir);
  server = new Server();
  addRecordsService(server, {
    records: bed.records,
    registry: bed.registry,
    clock: bed.clock,
    logger: testLogger(),
    token,
    aliases,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  client = new RecordsClient(`127.0.0.1:${port}`, credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  await bed?.cleanup();
});

describe('Records.SearchAliases', () => {
  it('lists the canonical names one of whose spellings begins with the prefix, with their aliases as written', async () => {
    expect((await suggest({ prefix: 'fabr' })).suggestions).toEqual([
      { name: 'FN Herstal', aliases: ['FN', 'Fabrique Nationale', 'F.N.'] },
    ]);
    // Compared in the name form: case, dots and accents do not matter.
    expect((await suggest({ prefix: 'F.N' })).suggestions.map((s) => s.name)).toEqual(['FN Herstal']);
    expect((await suggest({ prefix: 'h&' })).suggestions.map((s) => s.name)).toEqual(['Heckler & Koch']);
    expect((await suggest({ prefix: '' })).suggestions.map((s) => s.name)).toEqual([
      'FN Herstal',
      'Heckler & Koch',
      'Star*Arms',
      'Glock',
    ]);
    expect((await suggest({ prefix: '', limit: 2 })).suggestions).toHaveLength(2);
    expect((await suggest({ prefix: 'zastava' })).suggestions).toEqual([]);
  });

  it('suggests calibres from the calibre table (the default one here)', async () => {
    const names = (await suggest({ calibres: true, prefix: '9 mm par' })).suggestions.map((s) => s.name);
    expect(names).toEqual(['9x19']);
  });

  it('takes wildcards as plain characters and refuses a long prefix, a control character and a large limit', async () => {
    // `*`, `%` and `?` match nothing but themselves: no pattern, no listing of the whole table.
    expect((await suggest({ prefix: '*' })).suggestions).toEqual([]);
    expect((await suggest({ prefix: '%' })).suggestions).toEqual([]);
    expect((await suggest({ prefix: '.*' })).suggestions).toEqual([]);
    expect((await suggest({ prefix: 'Gl?ck' })).suggestions).toEqual([]);
    expect((await suggest({ prefix: 'G*k' })).suggestions).toEqual([]);
    expect((await suggest({ prefix: "' OR 1=1 --" })).suggestions).toEqual([]);
    expect((await suggest({ prefix: 'star*' })).suggestions.map((s) => s.name)).toEqual(['Star*Arms']);
    await expect(suggest({ prefix: 'F'.repeat(101) })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'prefix',
      rule: 'max_length',
    });
    await expect(suggest({ prefix: 'x'.repeat(1_000_000) })).rejects.toBeInstanceOf(TracenetError);
    for (const prefix of ['FN\u0000', 'FN\nHK', '\u001b[31mFN', 'F\u007fN'])
      await expect(suggest({ prefix })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'prefix',
        rule: 'control_character',
      });
    await expect(suggest({ prefix: 'FN', limit: 21 })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'limit',
      rule: 'range',
    });
    expect((await suggest({ prefix: 'gl', limit: 20 })).suggestions.map((s) => s.name)).toEqual(['Glock']);
  });

  it('refuses a call without the token', async () => {
    const saved = token;
    token = 'not-the-token';
    try {
      await expect(suggest({ prefix: 'FN' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAUTHORIZED });
    } finally {
      token = saved;
    }
  });
});
