import { type Roster, RosterBody } from '@tracenet/proto';
import { domainLabel, ed25519Sign } from './primitives.js';

const ROSTER = domainLabel('tracenet.v1/roster');

/** Signs a roster body with the federation operator's key (protocol 15.4): Ed25519 over D("tracenet.v1/roster") || body. */
export function signRoster(body: RosterBody, operatorSecretKey: Uint8Array): Roster {
  const bytes = Buffer.from(RosterBody.encode(body).finish());
  return { body: bytes, signature: ed25519Sign(Buffer.concat([ROSTER, bytes]), operatorSecretKey) };
}
