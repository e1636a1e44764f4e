import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/index.js';

const PASSWORD = 'correct horse battery';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** A browser of the console in miniature: a cookie jar, the CSRF token, raw HTTPS requests. */
class ConsoleClient {
  readonly #url: URL;
  readonly #cookies = new Map<string, string>();
  csrfToken = '';

  constructor(consoleUrl: string) {
    this.#url = new URL(consoleUrl);
  }

  /** The Cookie header of this browser. */
  cookieHeader(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  send(
    method: string,
    path: string,
    body?: Buffer | string | AsyncIterable<Buffer>,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const cookie = this.cookieHeader();
      const req = httpsRequest(
        {
          host: this.#url.hostname,
          port: this.#url.port,
          path,
          method,
          agent: false,
          rejectUnauthorized: false,
          headers: { ...(cookie ? { cookie } : {}), ...headers },
        },
        (res) => {
          for (const set of res.headers['set-cookie'] ?? []) {
            const [pair = ''] = set.split(';');
            const at = pair.indexOf('=');
            this.#cookies.set(pair.slice(0, at), pair.slice(at + 1));
          }
          const parts: Buffer[] = [];
          res.on('data', (chunk: Buffer) => parts.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (body === undefined) req.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
      else
        void (async () => {
          for await (const chunk of body) req.write(chunk);
          req.end();
        })();
    });
  }

  async signIn(officerId: string): Promise<void> {
    const session = await this.send('GET', '/api/session');
    this.csrfToken = (JSON.parse(session.text) as { csrfToken: string }).csrfToken;
    const login = await this.send('POST', '/api/session', JSON.stringify({ officerId, password: PASSWORD }), {
      'content-type': 'application/json',
      'x-csrf-token': this.csrfToken,
    });
    expect(login.status, login.text).toBe(200);
  }

  import(file: Buffer | string, query: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('POST', `/api/import?${query}`, file, {
      'content-type': 'application/octet-stream',
      'x-csrf-token': this.csrfToken,
      ...headers,
    });
  }
}

interface Progress {
  rowsRead?: number;
  rowsImported?: number;
  rowsRejected?: number;
  bytesProcessed?: number;
  done?: boolean;
  errors?: Array<{ line: number; field: string; reason: string }>;
}

function lines(answer: Answer): Progress[] {
  return answer.text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Progress);
}

const HEADER = 'manufacturer,serial_number,model,type,calibre,year,event1_type,event1_date';
const GOOD_AND_BAD = [
  HEADER,
  'FN Herstal,IR-0001,FAL,rifle,7.62x51mm,1998,manufactured,1998-03-02',
  ',IR-0002,FAL,rifle,7.62x51mm,1998,,', // line 3: no manufacturer
  'Glock,IR-0003,17,pistol,9x19mm,2011,,',
  'Beretta,IR-0004,92FS,spear,9x19mm,2001,,', // line 5: unknown type
  'Beretta,IR-0005,92FS,pistol,9x19mm,2001,exported,2003-01-01', // line 6: exported without destination
].join('\n');

describe('the console import route', () => {
  let federation: LocalFederation;
  let fra: LocalNode;
  beforeAll(async () => {
    federation = await startLocalFederation({
      participants: ['FRA'],
      console: true,
      logLevel: 'info',
      officers: {
        FRA: [
          { officerId: 'amina', password: PASSWORD, roles: ['officer'] },
          { officerId: 'ines', password: PASSWORD, roles: ['auditor'] },
        ],
      },
    });
    fra = federation.node('FRA');
  });
  afterAll(async () => {
    await federation?.stop();
  });

  it('imports the good rows of a CSV file and reports each bad row with its line, field and reason', async () => {
    const officer = new ConsoleClient(fra.consoleUrl);
    await officer.signIn('amina');
    const answer = await officer.import(GOOD_AND_BAD, 'format=csv');
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers['content-type']).toMatch(/application\/x-ndjson/);
    const progress = lines(answer);
    const last = progress.at(-1);
    expect(last).toMatchObject({ done: true, rowsRead: 5, rowsImported: 2, rowsRejected: 3 });
    const errors = progress.flatMap((p) => p.errors ?? []);
    expect(errors.map((e) => [e.line, e.field])).toEqual([
      [3, 'manufacturer'],
      [5, 'type'],
      [6, 'event1_destination'],
    ]);
    const found = await fra.records.call('searchRecords', {
      query: { manufacturer: 'Glock', serialNumber: 'IR-0003', model: '', calibre: '', type: 0 },
      serialOnly: false,
      limit: 0,
    });
    expect(found.records).toHaveLength(1);
  });

  it('checks a file without writing it on a dry run', async () => {
    const officer = new ConsoleClient(fra.consoleUrl);
    await officer.signIn('amina');
    const file = `${HEADER}\nHK,DRY-0001,G3,rifle,7.62x51mm,1970,,\n`;
    const answer = await officer.import(file, 'format=csv&dryRun=true');
    const last = lines(answer).at(-1);
    expect(last).toMatchObject({ done: true, rowsRead: 1 });
    expect(last?.rowsRejected ?? 0).toBe(0);
    const found = await fra.records.call('searchRecords', {
      query: { manufacturer: 'HK', serialNumber: 'DRY-0001', model: '', calibre: '', type: 0 },
      serialOnly: true,
      limit: 0,
    });
    expect(found.records).toHaveLength(0);
  });

  it('imports JSON Lines', async () => {
    const officer = new ConsoleClient(fra.consoleUrl);
    await officer.signIn('amina');
    const file = [
      JSON.stringify({ manufacture: { manufacturer: 'Beretta', serialNumber: 'JL-1', type: 'pistol' } }),
      '{not json',
    ].join('\n');
    const progress = lines(await officer.import(file, 'format=jsonl'));
    expect(progress.at(-1)).toMatchObject({ done: true, rowsImported: 1, rowsRejected: 1 });
    expect(progress.flatMap((p) => p.errors ?? [])).toMatchObject([{ line: 2, field: 'line' }]);
  });

  it('refuses an auditor, who may read records but not import them', async () => {
    const auditor = new ConsoleClient(fra.consoleUrl);
    await auditor.signIn('ines');
    const answer = await auditor.import(GOOD_AND_BAD, 'format=csv');
    expect(answer.status, fra.output.filter((l) => l.includes('console call failed')).join('\n')).toBe(403);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'FORBIDDEN', rule: 'role' } });
  });

  it('refuses an upload without the CSRF token, and one without a session', async () => {
    const officer = new ConsoleClient(fra.consoleUrl);
    await officer.signIn('amina');
    const noToken = await officer.import(GOOD_AND_BAD, 'format=csv', { 'x-csrf-token': '' });
    expect(noToken.status).toBe(403);
    expect(JSON.parse(noToken.text)).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const stranger = new ConsoleClient(fra.consoleUrl);
    const session = await stranger.send('GET', '/api/session');
    stranger.csrfToken = (JSON.parse(session.text) as { csrfToken: string }).csrfToken;
    const signedOut = await stranger.import(GOOD_AND_BAD, 'format=csv');
    expect(signedOut.status).toBe(401);
    expect(JSON.parse(signedOut.text)).toMatchObject({ error: { code: 'UNAUTHORIZED', rule: 'signed_out' } });
  });

  it('refuses precisely a body that is not CSV, an unknown format and a JSON body', async () => {
    const officer = new ConsoleClient(fra.consoleUrl);
    await officer.signIn('amina');
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);
    const binary = await officer.import(png, 'format=csv');
    expect(binary.status, binary.text).toBe(400);
    expect(JSON.parse(binary.text)).toMatchObject({ error: { code: 'INVALID_FIELD', field: 'header' } });
    const json = await officer.import('{"records": []}\n', 'format=csv');
    expect(JSON.parse(json.text)).toMatchObject({ error: { code: 'INVALID_FIELD', field: 'header' } });
    const format = await officer.import(GOOD_AND_BAD, 'format=xlsx');
    expect(format.status).toBe(400);
    expect(JSON.parse(format.text)).toMatchObject({ error: { field: 'format', rule: 'import_format' } });
    const asJson = await officer.send('POST', '/api/import?format=csv', '{}', {
      'content-type': 'application/json',
      'x-csrf-token': officer.csrfToken,
    });
    expect(asJson.status).toBe(400);
    expect(JSON.parse(asJson.text)).toMatchObject({ error: { field: 'content-type', rule: 'octet_stream' } });
  });

  it('refuses a body larger than the limit before reading it', async () => {
    const officer = new ConsoleClient(fra.consoleUrl);
    await officer.signIn('amina');
    const answer = await officer.send('POST', '/api/import?format=csv', undefined, {
      'content-type': 'application/octet-stream',
      'content-length': String(600 * 1024 * 1024),
      'x-csrf-token': officer.csrfToken,
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { field: 'file', rule: 'import_size' } });
  });

  it('stays healthy when an upload stops half-way', async () => {
    const officer = new ConsoleClient(fra.consoleUrl);
    await officer.signIn('amina');
    const url = new URL(fra.consoleUrl);
    const cut = await new Promise<string>((resolve) => {
      const req = httpsRequest({
        host: url.hostname,
        port: url.port,
        path: '/api/import?format=csv',
        method: 'POST',
        agent: false,
        rejectUnauthorized: false,
        headers: {
          cookie: officer.cookieHeader(),
          'x-csrf-token': officer.csrfToken,
          'content-type': 'application/octet-stream',
          'content-length': '100000',
        },
      });
      req.on('error', (error) => resolve(error.message));
      req.on('close', () => resolve('closed'));
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      // The browser goes away with most of the file still to send.
      req.write(`${HEADER}\nFN Herstal,CUT-0001,FAL,rifle,7.62x51mm,1998,,\n`, () => setImmediate(() => req.destroy()));
    });
    expect(cut).toBeTruthy();
    await expect.poll(() => fra.output.some((line) => line.includes('console import cancelled'))).toBe(true);
    const cutRows = await fra.records.call('searchRecords', {
      query: { manufacturer: 'FN Herstal', serialNumber: 'CUT-0001', model: '', calibre: '', type: 0 },
      serialOnly: true,
      limit: 0,
    });
    expect(cutRows.records).toHaveLength(0);
    // A second, complete upload by the same officer goes through, and the node still answers calls.
    const answer = await officer.import(`${HEADER}\nFN Herstal,AFTER-0001,FAL,rifle,7.62x51mm,1998,,\n`, 'format=csv');
    expect(lines(answer).at(-1)).toMatchObject({ done: true, rowsImported: 1 });
    const who = await officer.send(
      'POST',
      '/api/rpc/tracenet.v1.Records/SearchRecords',
      JSON.stringify({ query: { manufacturer: 'FN Herstal', serialNumber: 'AFTER-0001' } }),
      {
        'content-type': 'application/json',
        'x-csrf-token': officer.csrfToken,
      },
    );
    expect(who.status).toBe(200);
  });
});
