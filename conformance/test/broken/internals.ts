/**
 * The reference node's internal classes that broken variants patch. They are not part of
 * `@tracenet/node`'s public door, so this one file loads them from the built package, next to the
 * module `@tracenet/node` resolves to — the same files the node imports, hence the same module
 * instances and the same prototypes. Nothing but the broken variants of the conformance suite's
 * own tests may do this.
 */
import type * as OpenerModule from '../../../node/dist/federation/envelope-opener.js';
import type * as SodiumModule from '../../../node/dist/crypto/sodium.js';

const entry = import.meta.resolve('@tracenet/node');
const internal = <T>(path: string): Promise<T> => import(new URL(path, entry).href) as Promise<T>;

export const { EnvelopeOpener } = await internal<typeof OpenerModule>('./federation/envelope-opener.js');
export type EnvelopeOpener = OpenerModule.EnvelopeOpener;
export const { sodium } = await internal<typeof SodiumModule>('./crypto/sodium.js');
