import { ErrorCode, type RecordsServer, TracenetError } from '@tracenet/proto';
import { destructionRequestViolations } from '../records/ddr-rules.js';
import {
  type CertificateKeys,
  type DestructionSigner,
  destructionSigner,
  verifyCertificate,
} from '../records/destruction.js';
import type { PeerRegistry } from '../federation/peers.js';
import type { NodeIdentity } from '../identity/data-dir.js';
import type { RecordStore } from '../records/record-store.js';
import type { Clock } from '../util/clock.js';
import { violationError } from '../util/violations.js';
import type { guardedUnary } from './grpc-handlers.js';

/** What the destruction calls need beyond the records: the node's signer and the keys it verifies with. */
export interface DestructionDeps {
  readonly sign: DestructionSigner;
  readonly keys: CertificateKeys;
}

/**
 * The destruction deps of a node: it signs with its current keys and verifies with any key it
 * has had, and with a pinned peer's pinned card or a previous card it still keeps (in its grace),
 * unless the peer or the roster revoked that key.
 */
export function nodeDestructionDeps(identity: NodeIdentity, peers: PeerRegistry, clock: Clock): DestructionDeps {
  return {
    sign: destructionSigner(identity),
    keys: {
      selfId: identity.participantId,
      ownKey: (keyId) => identity.signingPublicKeyOf(keyId),
      peerKey: (participantId, keyId) => {
        const peer = peers.get(participantId);
        if (!peer) return 'unknown_issuer';
        const found = peers.senderKeys(peer, keyId, clock.now());
        if ('body' in found) return found.body.signingPublicKey;
        return found.refused === 'revoked_key' ? 'revoked_key' : 'unknown_key';
      },
    },
  };
}

type Guard = ReturnType<typeof guardedUnary>;
type DestructionCalls = Pick<
  RecordsServer,
  'recordDestruction' | 'getDestructionCertificate' | 'verifyDestructionCertificate'
>;

function unimplemented(): never {
  throw new TracenetError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'this node does not sign destruction certificates', {
    rule: 'unimplemented',
  });
}

/**
 * Records.RecordDestruction, GetDestructionCertificate and VerifyDestructionCertificate
 * (docs/protocol.md 19.2, 19.3). Each refusal is a TracenetError naming its field and rule; an
 * invalid certificate is not an error but a verdict (`valid: false`, field, rule).
 *
 * @example
 * ```ts
 * const implementation = { ...addDestructionCalls(guarded, records, clock, { sign, keys }), putRecord, … };
 * ```
 */
export function addDestructionCalls(
  guarded: Guard,
  records: RecordStore,
  clock: Clock,
  deps: DestructionDeps | undefined,
): DestructionCalls {
  return {
    recordDestruction: guarded(async (request) => {
      if (!deps) unimplemented();
      const violations = destructionRequestViolations(request, clock.now());
      if (violations.length > 0) throw violationError(violations, 'the destruction is not valid');
      const done = await records.recordDestruction(
        request.recordId,
        {
          destroyedDate: request.destroyedDate,
          method: request.method.trim(),
          witnesses: request.witnesses.map((w) => w.trim()),
        },
        deps.sign,
      );
      return { record: done.record, certificate: done.certificate };
    }),
    getDestructionCertificate: guarded(async (request) => {
      const certificate = await records.certificate(request.recordId);
      if (!certificate)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_NOT_FOUND,
          `record ${request.recordId} has no destruction certificate: it is not recorded as destroyed`,
          { field: 'record_id', rule: 'destroyed' },
        );
      return { record: await records.get(request.recordId), certificate };
    }),
    verifyDestructionCertificate: guarded(async (request) => {
      if (!deps) unimplemented();
      if (!request.certificate)
        throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'certificate is required', {
          field: 'certificate',
          rule: 'required',
        });
      return verifyCertificate(request.certificate, deps.keys);
    }),
  };
}
