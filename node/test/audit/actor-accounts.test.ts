/**
 * The audit names who, through the accounts of docs/protocol.md 7.1 (real LevelDB, gRPC on
 * loopback, two nodes in this process): what the bootstrap token does in setup mode names the
 * bootstrap token; what an officer does with her session names her and that session; what a
 * client does with its API key names the client and the key; the delivery and the received message
 * name the node. An auditor lists one officer's entries through the Authority API and cannot write
 * anything.
 */
import { AccessClient, type AccessServer, ErrorCode, TracenetError } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAuthority } from '../../src/api/authority-client.js';
import { connectUnary } from '../../src/api/unary-client.js';
import { type AuditQuery, listAuditEntries, storeAuditEntries } from '../../src/audit/audit-query.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import type { TracenetNode } from '../../src/node.js';
import { rejectionOf } from '../support/parties.js';
import { pinAll, startNode, type TestNode, waitFor } from '../support/nodes.js';

const everything: AuditQuery = { officerId: '', clientId: '', sinceMs: 0, untilMs: 0, limit: 1000, cursor: '' };
const PASSWORD = 'a long officer password';

let fra: TestNode;
let bel: TestNode;
let bootstrap = '';
let anaSession = { token: '', id: '' };
let auditorToken = '';
let clientKey = { key: '', keyId: '' };
const closers: Array<{ close(): void }> = [];

function access(token: string) {
  const client = connectUnary<AccessServer>(AccessClient, fra.node.authorityAddress, token);
  closers.push(client.client);
  return client;
}

function authority(token: string) {
  const client = connectAuthority(fra.node.authorityAddress, token);
  closers.push(client);
  return client;
}

async function entries(node: TracenetNode) {
  return (await listAuditEntries(storeAuditEntries(node.store), everything)).entries.map((e) => ({
    seq: e.seq,
    type: e.type,
    actor: e.actor,
    fields: JSON.parse(e.fieldsJson) as Record<string, unknown>,
  }));
}

beforeAll(async () => {
  [fra, bel] = await Promise.all([startNode('FRA'), startNode('BEL')]);
  await pinAll([fra.node, bel.node]);
  bootstrap = await readAuthorityToken(fra.dataDir);
  // Setup mode: the bootstrap token creates the accounts (no administrator, so it stays usable).
  for (const [officerId, roles] of [
    ['ana', ['officer']],
    ['audrey', ['auditor']],
  ] as const)
    await access(bootstrap).call('addOfficer', {
      officerId,
      displayName: officerId,
      roles: [...roles],
      password: PASSWORD,
      requireTotp: false,
    });
  const added = await access(bootstrap).call('addClient', {
    clientId: 'cms',
    roles: ['officer'],
    expiresAtMs: Date.now() + 86_400_000,
  });
  clientKey = { key: added.apiKey, keyId: added.client?.keyId ?? '' };
  const login = await access('').call('login', { officerId: 'ana', password: PASSWORD, totpCode: '' });
  anaSession = { token: login.sessionToken, id: login.sessionId };
  auditorToken = (await access('').call('login', { officerId: 'audrey', password: PASSWORD, totpCode: '' }))
    .sessionToken;
  await authority(anaSession.token).call('sendNotice', {
    recipient: 'BEL',
    subject: 's',
    text: 'from Ana',
    correlationId: '',
  });
  await authority(clientKey.key).call('sendNotice', {
    recipient: 'BEL',
    subject: 's',
    text: 'from the CMS',
    correlationId: '',
  });
  await waitFor(
    async () => (await entries(bel.node)).filter((e) => e.type === 'message.received').length === 2,
    15_000,
    'both notices received',
  );
  await waitFor(
    async () => (await entries(fra.node)).filter((e) => e.type === 'message.delivered').length === 2,
    15_000,
    'both deliveries recorded',
  );
}, 60_000);

afterAll(async () => {
  for (const c of closers) c.close();
  await Promise.all([fra?.cleanup(), bel?.cleanup()]);
});

describe('who each entry names', () => {
  it('the accounts made in setup mode name the bootstrap token', async () => {
    const made = (await entries(fra.node)).filter((e) => e.type === 'officer.added' || e.type === 'client.added');
    expect(made).toHaveLength(3);
    for (const e of made) expect(e.actor).toEqual({ kind: 'bootstrap', id: '', session: '' });
  });

  it("Ana's notice names her and the session she signed in with; the client's names it and its key", async () => {
    const queued = (await entries(fra.node)).filter((e) => e.type === 'message.queued');
    expect(queued.map((e) => e.actor)).toEqual([
      { kind: 'officer', id: 'ana', session: anaSession.id },
      { kind: 'client', id: 'cms', session: clientKey.keyId },
    ]);
    expect(anaSession.id).not.toBe('');
    expect(clientKey.keyId).not.toBe('');
    // Ids only: no token or key reaches the audit log.
    const log = JSON.stringify(await entries(fra.node));
    for (const secret of [anaSession.token, clientKey.key, bootstrap, PASSWORD]) expect(log).not.toContain(secret);
  });

  it('the deliveries name the node; on BEL the received messages name the node and FRA as peer', async () => {
    for (const e of (await entries(fra.node)).filter((x) => x.type === 'message.delivered'))
      expect(e.actor?.kind).toBe('node');
    for (const e of (await entries(bel.node)).filter((x) => x.type === 'message.received'))
      expect(e).toMatchObject({ actor: { kind: 'node', id: '' }, fields: { peer: 'FRA' } });
    expect(await fra.node.verifyAudit()).toMatchObject({ ok: true });
  });
});

describe('an auditor', () => {
  it("lists Ana's entries and the client's through the Authority API", async () => {
    const auditor = authority(auditorToken);
    const ana = await auditor.call('listAudit', { ...everything, officerId: 'ana' });
    expect(ana.entries.map((e) => e.type)).toContain('message.queued');
    for (const e of ana.entries) expect(e.actor).toMatchObject({ kind: 'officer', id: 'ana' });
    const cms = await auditor.call('listAudit', { ...everything, clientId: 'cms' });
    expect(cms.entries.map((e) => e.type)).toEqual(['message.queued']);
    expect(cms.entries[0]?.actor).toEqual({ kind: 'client', id: 'cms', session: clientKey.keyId });
  });

  it('cannot write: a notice is FORBIDDEN and the log does not grow', async () => {
    const before = (await entries(fra.node)).length;
    const error = TracenetError.from(
      await rejectionOf(
        authority(auditorToken).call('sendNotice', { recipient: 'BEL', subject: 's', text: 't', correlationId: '' }),
      ),
    );
    expect(error.code).toBe(ErrorCode.ERROR_CODE_FORBIDDEN);
    expect((await entries(fra.node)).length).toBe(before);
  });
});
