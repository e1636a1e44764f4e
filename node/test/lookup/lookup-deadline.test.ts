import { LookupOutcome, type LookupResponse, type Receipt } from '@tracenet/proto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Transport } from '../../src/federation/transport.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { startNode, waitFor } from '../support/nodes.js';
import { makeParty } from '../support/parties.js';
import { rifleQuery } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A peer whose transport takes the query and never answers, not even with its own deadline. */
class SilentTransport implements Transport {
  asked = 0;
  deliver(): Promise<Receipt> {
    return new Promise(() => undefined);
  }
  lookup(): Promise<Buffer> {
    this.asked += 1;
    return new Promise(() => undefined);
  }
  close(): void {}
}

describe('the deadline of a lookup (docs/protocol.md 13), on logical time', () => {
  it('reports a peer that never answers as TIMEOUT once the deadline has passed, and not before', async () => {
    const scheduler = new ManualScheduler(Date.now());
    const transport = new SilentTransport();
    const fra = await startNode('FRA', { clock: scheduler, transport });
    cleanups.push(() => fra.cleanup());
    const bel = await makeParty('BEL', scheduler.now());
    cleanups.push(() => bel.cleanup());
    await fra.node.peers.pin(bel.card, scheduler.now());

    let response: LookupResponse | undefined;
    const lookup = fra.node.lookups.client
      .lookup({
        weapon: rifleQuery(),
        purpose: 'seizure at Roissy, case 2026/77',
        peers: [],
        deadlineMs: 800,
        requestingAuthority: 'OCLCTIC',
      })
      .then((r) => (response = r));
    await waitFor(() => transport.asked === 1, 5000, 'the query sent');
    await scheduler.advance(800);
    expect(response, 'the answer at the deadline itself').toBeUndefined();
    await scheduler.advance(1000);
    await lookup;
    expect(response?.results).toEqual([
      expect.objectContaining({ peer: 'BEL', outcome: LookupOutcome.LOOKUP_OUTCOME_TIMEOUT, hits: [] }),
    ]);
    expect(response?.notAnswered).toEqual(['BEL']);
  });
});
