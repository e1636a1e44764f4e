import type { IncompleteRecord, WeaponRecord, WeaponType } from '@tracenet/proto';
import type { AliasTable } from '../records/alias-table.js';
import { heldSerials } from './adapter.js';
import { indexedSerials, normaliseModel } from '../records/normalise.js';

/**
 * What tells one weapon from another when the node's own store and a registry both hold it
 * (docs/records.md 2.3, docs/protocol.md 13.4): the manufacturer after aliases, the indexed
 * serials (manufacture and control component, normalised) and, where given, model, calibre (after
 * the calibre alias table, as the identity rules compare it) and type. Empty strings and type 0
 * are "not given".
 */
export interface WeaponIdentity {
  /** Canonical name form (after the alias table). */
  readonly manufacturer: string;
  readonly serials: readonly string[];
  readonly model: string;
  readonly calibre: string;
  readonly type: WeaponType | 0;
}

/** The identity of a record. */
export function identityOfRecord(record: WeaponRecord, aliases: AliasTable): WeaponIdentity {
  const m = record.manufacture;
  return {
    manufacturer: aliases.canonical(m?.manufacturer ?? ''),
    serials: indexedSerials(record),
    model: normaliseModel(m?.model ?? ''),
    calibre: aliases.canonicalCalibre(m?.calibre ?? ''),
    type: m?.type ?? 0,
  };
}

/** The identity of a weapon held but incomplete: what of it the adapter could read. */
export function identityOfIncomplete(entry: IncompleteRecord, aliases: AliasTable): WeaponIdentity {
  const q = entry.identity;
  return {
    manufacturer: q?.manufacturer ? aliases.canonical(q.manufacturer) : '',
    serials: heldSerials(entry),
    model: normaliseModel(q?.model ?? ''),
    calibre: aliases.canonicalCalibre(q?.calibre ?? ''),
    type: q?.type ?? 0,
  };
}

/**
 * Whether two identities are one weapon: the same manufacturer (both known), an indexed serial in
 * common, and the same model, calibre and type wherever both give one. A record that leaves one
 * of them empty does not tell the two apart by it.
 *
 * @example
 * ```ts
 * sameWeapon(identityOfRecord(local, table), identityOfRecord(fromPostgres, table)); // true: the node's copy of a registry weapon
 * ```
 */
export function sameWeapon(a: WeaponIdentity, b: WeaponIdentity): boolean {
  const both = (x: string, y: string) => x === '' || y === '' || x === y;
  return (
    a.manufacturer !== '' &&
    a.manufacturer === b.manufacturer &&
    a.serials.some((s) => b.serials.includes(s)) &&
    both(a.model, b.model) &&
    both(a.calibre, b.calibre) &&
    (a.type === 0 || b.type === 0 || a.type === b.type)
  );
}

/**
 * The weapons one search has kept so far, by adapter, indexed by manufacturer and serial so that
 * a wide wildcard search does not compare every pair.
 */
export class WeaponsSeen<S> {
  readonly #byKey = new Map<string, Array<{ source: S; identity: WeaponIdentity }>>();

  add(source: S, identity: WeaponIdentity): void {
    if (identity.manufacturer === '') return;
    for (const serial of identity.serials) {
      const key = `${identity.manufacturer}\u0000${serial}`;
      const list = this.#byKey.get(key);
      if (list) list.push({ source, identity });
      else this.#byKey.set(key, [{ source, identity }]);
    }
  }

  /** Whether a source other than `source` gave a weapon that is the same as `identity`. */
  heldElsewhere(source: S, identity: WeaponIdentity): boolean {
    return identity.serials.some((serial) =>
      (this.#byKey.get(`${identity.manufacturer}\u0000${serial}`) ?? []).some(
        (seen) => seen.source !== source && sameWeapon(seen.identity, identity),
      ),
    );
  }
}
