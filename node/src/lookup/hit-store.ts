import { ErrorCode, HitNotice, TracenetError } from '@tracenet/proto';
import { randomBytes } from '../crypto/sodium.js';
import { padNumber, type Operation, type Store } from '../store/store.js';

/** Default and largest page of {@link HitStore.list}. */
export const HIT_PAGE = { default: 100, max: 500 } as const;

/** A new hit id: "hit_" and 22 base64url characters. */
export function newHitId(): string {
  return `hit_${randomBytes(16).toString('base64url')}`;
}

/**
 * Hit notices: the record owner's account of every hit peers made on its records of interest
 * (docs/protocol.md 13.7), in the `hits` sublevel under `at_ms`, a sequence number and the hit id,
 * so that listings come newest first. Notices are written by the lookup responder in the same batch as the audit
 * entries and node events of the hit ({@link HitStore.putOperation}); they are never changed.
 *
 * @example
 * ```ts
 * const page = await hits.list({ limit: 20 });
 * for (const h of page.hits) console.log(h.askedBy, h.purpose, h.recordId);
 * ```
 */
export class HitStore {
  /** Order of notices written in the same millisecond (hits of one answer, a stopped test clock). */
  #sequence = 0;

  constructor(private readonly store: Store) {}

  /** Continues the order of the notices already stored. Call once before writing. */
  async init(): Promise<void> {
    for await (const key of this.store.lookups.hits.keys({ reverse: true, limit: 1 }))
      this.#sequence = Number(key.split('\u0000')[1] ?? 0) + 1;
  }

  /** The write that stores `notice`, for the caller's batch. */
  putOperation(notice: HitNotice): Operation {
    this.#sequence += 1;
    return this.store.lookups.hits.put(
      `${padNumber(notice.atMs)}\u0000${padNumber(this.#sequence)}\u0000${notice.hitId}`,
      notice,
    );
  }

  /** One page of notices, newest first; `cursor` is the `nextCursor` of the previous page. */
  async list(options: { limit?: number; cursor?: string } = {}): Promise<{ hits: HitNotice[]; nextCursor: string }> {
    const limit = options.limit === undefined || options.limit === 0 ? HIT_PAGE.default : options.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > HIT_PAGE.max) {
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `limit must be from 1 to ${HIT_PAGE.max}`, {
        field: 'limit',
        rule: 'range',
      });
    }
    const before = options.cursor ? Buffer.from(options.cursor, 'base64url').toString('utf8') : undefined;
    const hits: HitNotice[] = [];
    let last = '';
    for await (const [key, notice] of this.store.lookups.hits.entries({
      reverse: true,
      ...(before === undefined ? {} : { lt: before }),
      limit: limit + 1,
    })) {
      if (hits.length === limit) return { hits, nextCursor: Buffer.from(last, 'utf8').toString('base64url') };
      hits.push(notice);
      last = key;
    }
    return { hits, nextCursor: '' };
  }
}
