import { AsyncLocalStorage } from 'node:async_hooks';

/** What a person or client may do on a node (docs/operations.md, accounts). A principal may hold several. */
export type Role = 'officer' | 'supervisor' | 'auditor' | 'administrator';

/**
 * Who a local action is done by: an officer signed in (locally or through the state's identity
 * provider), a named client with an API key, the bootstrap token (only until the first
 * administrator exists), or the node itself (automatic steps, received messages).
 */
export interface Actor {
  readonly kind: 'officer' | 'client' | 'bootstrap' | 'node';
  /** The officer's or client's id; '' for the node and the bootstrap token. */
  readonly id: string;
  readonly roles: readonly Role[];
  /** The session (or API key id) the action came through; '' for the node. */
  readonly session: string;
}

/** The node acting on its own: automatic steps, timers, received messages. */
export const NODE_ACTOR: Actor = Object.freeze({ kind: 'node', id: '', roles: [], session: '' });

const current = new AsyncLocalStorage<Actor>();

/** Runs `work` on behalf of `actor`: what it writes to the audit log names that actor. */
export function runAs<T>(actor: Actor, work: () => T): T {
  return current.run(actor, work);
}

/** The actor of the request being handled, or the node when none ({@link runAs}). */
export function currentActor(): Actor {
  return current.getStore() ?? NODE_ACTOR;
}
