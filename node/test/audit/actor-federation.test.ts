/**
 * Who the audit log names across a federation (docs/protocol.md 8.1), with two real nodes in this
 * process (real LevelDB, gRPC with TLS on loopback): an officer's trace request names the officer
 * on the requesting node, while its delivery, the receipt of the request and the automatic
 * acknowledgement name the node — the received message keeps naming its sender as `peer`. The
 * Authority API lists them by officer.
 */
import { CaseState, ErrorCode, PeerPolicy, TracenetError } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, runAs } from '../../src/access/actor.js';
import { connectAuthority } from '../../src/api/authority-client.js';
import { type AuditQuery, listAuditEntries, storeAuditEntries } from '../../src/audit/audit-query.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import type { TracenetNode } from '../../src/node.js';
import { rejectionOf } from '../support/parties.js';
import { pinAll, startNode, type TestNode, waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';

const ANA: Actor = { kind: 'officer', id: 'o-ana', roles: ['officer'], session: 's-ana-1' };
const BOB: Actor = { kind: 'officer', id: 'o-bob', roles: ['administrator'], session: 's-bob-2' };

const everything: AuditQuery = { officerId: '', clientId: '', sinceMs: 0, untilMs: 0, limit: 1000, cursor: '' };

/** Every entry of a node's log as [type, actor kind, actor id, fields]. */
async function audit(node: TracenetNode) {
  const page = await listAuditEntries(storeAuditEntries(node.store), everything);
  return page.entries.map((e) => ({
    type: e.type,
    kind: e.actor?.kind,
    id: e.actor?.id,
    fields: JSON.parse(e.fieldsJson) as Record<string, unknown>,
  }));
}

let fra: TestNode;
let bel: TestNode;
let traceId = '';

beforeAll(async () => {
  [fra, bel] = await Promise.all([startNode('FRA'), startNode('BEL')]);
  await pinAll([fra.node, bel.node]);
  await runAs(BOB, () =>
    bel.node.policies.set(
      PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: true, autoAcknowledge: true }),
    ),
  );
  const mine = await runAs(ANA, () => fra.node.workflow.createCase('BEL', traceRequest(), true));
  traceId = mine.traceId;
  await waitFor(
    async () => (await fra.node.workflow.get(mine.caseId)).state === CaseState.CASE_STATE_ACKNOWLEDGED,
    15_000,
    'the automatic acknowledgement',
  );
  // The delivery of the acknowledgement is recorded on BEL once its receipt came back.
  await waitFor(
    async () => (await audit(bel.node)).some((e) => e.type === 'message.delivered'),
    15_000,
    "the acknowledgement's receipt",
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([fra?.cleanup(), bel?.cleanup()]);
});

describe('the requesting node: the officer, then the node', () => {
  it("the case and its message are the officer's; the delivery and the acknowledgement received are the node's", async () => {
    const entries = (await audit(fra.node)).filter((e) => e.type !== 'node.started' && e.type !== 'peer.pinned');
    const created = entries.find((e) => e.type === 'case.created' && e.fields.traceId === traceId);
    expect(created).toMatchObject({ kind: 'officer', id: 'o-ana' });
    const queued = entries.find((e) => e.type === 'message.queued' && e.fields.peer === 'BEL');
    expect(queued).toMatchObject({ kind: 'officer', id: 'o-ana' });
    expect(entries.find((e) => e.type === 'message.delivered')).toMatchObject({ kind: 'node', id: '' });
    const received = entries.find((e) => e.type === 'message.received');
    expect(received).toMatchObject({ kind: 'node', fields: { peer: 'BEL', direction: 'in' } });
    const acknowledged = entries.find((e) => e.type === 'case.changed' && e.fields.state === 'acknowledged');
    expect(acknowledged).toMatchObject({ kind: 'node' });
    // The node's own start and pins, done outside any request, name the node too.
    expect((await audit(fra.node)).find((e) => e.type === 'node.started')).toMatchObject({ kind: 'node' });
    expect(await fra.node.verifyAudit()).toMatchObject({ ok: true });
  });
});

describe('the requested node: the received message names its sender', () => {
  it('message.received names FRA as peer and the node as actor; the automatic acknowledgement is the node', async () => {
    const entries = await audit(bel.node);
    const received = entries.find((e) => e.type === 'message.received');
    expect(received).toMatchObject({ kind: 'node', id: '', fields: { peer: 'FRA', direction: 'in' } });
    const created = entries.find((e) => e.type === 'case.created' && e.fields.traceId === traceId);
    expect(created).toMatchObject({ kind: 'node', fields: { peer: 'FRA' } });
    expect(entries.find((e) => e.type === 'case.changed' && e.fields.state === 'acknowledged')).toMatchObject({
      kind: 'node',
    });
    // The policy that allowed it was set by the administrator.
    expect(entries.find((e) => e.type === 'policy.set' && e.fields.peer === 'FRA')).toMatchObject({
      kind: 'officer',
      id: 'o-bob',
    });
    // Nothing on BEL names FRA's officer: her identity stays on her node.
    expect(entries.some((e) => e.id === 'o-ana')).toBe(false);
    expect(await bel.node.verifyAudit()).toMatchObject({ ok: true });
  });
});

describe('Authority API: ListAudit', () => {
  it('lists the entries of one officer over gRPC, with actor and fields', async () => {
    const authority = connectAuthority(fra.node.authorityAddress, await readAuthorityToken(fra.dataDir));
    try {
      const page = await authority.call('listAudit', { ...everything, officerId: 'o-ana', limit: 0 });
      // Drafted, sent, and the request queued: her three steps, nothing of the node's.
      expect(page.entries.map((e) => [e.type, (JSON.parse(e.fieldsJson) as { state?: string }).state])).toEqual([
        ['case.created', 'draft'],
        ['message.queued', undefined],
        ['case.changed', 'sent'],
      ]);
      for (const e of page.entries) expect(e.actor).toEqual({ kind: 'officer', id: 'o-ana', session: 's-ana-1' });
      expect(page.nextCursor).toBe('');
      const none = await authority.call('listAudit', { ...everything, clientId: 'o-ana' });
      expect(none.entries).toEqual([]);
      // Time: nothing before the first entry's time and after now.
      const all = await authority.call('listAudit', everything);
      const last = all.entries.at(-1)?.atMs ?? 0;
      const later = await authority.call('listAudit', { ...everything, sinceMs: last + 1 });
      expect(later.entries).toEqual([]);
    } finally {
      authority.close();
    }
  });

  it('bad input over the wire is INVALID_FIELD with the field and rule', async () => {
    const authority = connectAuthority(fra.node.authorityAddress, await readAuthorityToken(fra.dataDir));
    try {
      const error = TracenetError.from(
        await rejectionOf(authority.call('listAudit', { ...everything, sinceMs: 20, untilMs: 10 })),
      );
      expect([error.code, error.field, error.rule]).toEqual([
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'until_ms',
        'after_since',
      ]);
      const cursor = TracenetError.from(
        await rejectionOf(authority.call('listAudit', { ...everything, cursor: '-1' })),
      );
      expect([cursor.field, cursor.rule]).toEqual(['cursor', 'format']);
    } finally {
      authority.close();
    }
  });
});
