import { LookupQuery } from '@tracenet/proto';
import type { Operation, Store } from '../store/store.js';

/** What this node remembers of a hit it received: enough to open a trace from it. */
export interface RememberedHit {
  readonly queryId: string;
  readonly atMs: number;
  /** The query as sent (weapon, purpose, requesting authority). */
  readonly query: LookupQuery;
  readonly partial: boolean;
}

const queryKey = (queryId: string) => `q\u0000${queryId}`;
const hitKey = (owner: string, reference: string) => `h\u0000${owner}\u0000${reference}`;

/**
 * The requester's side of lookups, in the lookups repository: each lookup it made (`q` NUL query
 * id → time and the query) and each hit it received (`h` NUL owner NUL reference → query id), so
 * that `TraceFromHit` opens a trace only from a hit this node really received, with the weapon
 * it asked about (docs/protocol.md 13.9).
 */
export class LookupHistory {
  constructor(private readonly store: Store) {}

  /**
   * The writes that remember a lookup and its hits, for the caller's batch. A hit points to the
   * latest lookup that received it, except that a partial (wildcard) hit does not replace a
   * lookup that hit the same record exactly: the exact query describes the weapon better.
   */
  async operations(
    query: LookupQuery,
    atMs: number,
    hits: ReadonlyArray<{ owner: string; reference: string; partial: boolean }>,
  ): Promise<Operation[]> {
    const { made, received } = this.store.lookups;
    const operations: Operation[] = [
      made.put(queryKey(query.queryId), {
        atMs,
        query: Buffer.from(LookupQuery.encode(query).finish()).toString('base64'),
      }),
    ];
    for (const h of hits) {
      const key = hitKey(h.owner, h.reference);
      if (h.partial && (await received.get(key))?.partial === false) continue;
      operations.push(received.put(key, { queryId: query.queryId, partial: h.partial }));
    }
    return operations;
  }

  /** The lookup of this node that received the hit `reference` from `owner` (see {@link operations}), or undefined. */
  async hit(owner: string, reference: string): Promise<RememberedHit | undefined> {
    const { made, received } = this.store.lookups;
    const pointer = await received.get(hitKey(owner, reference));
    if (pointer === undefined) return undefined;
    const stored = await made.get(queryKey(pointer.queryId));
    if (stored === undefined) return undefined;
    return {
      queryId: pointer.queryId,
      atMs: stored.atMs,
      query: LookupQuery.decode(Buffer.from(stored.query, 'base64')),
      partial: pointer.partial,
    };
  }
}
