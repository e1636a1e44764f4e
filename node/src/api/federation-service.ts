import type { Server } from '@grpc/grpc-js';
import {
  ErrorCode,
  FederationService,
  TracenetError,
  type GetPeerCardRequest,
  type GetPeerCardResponse,
  type PeerCard,
  type Receipt,
} from '@tracenet/proto';
import type { Logger } from 'pino';
import type { RefusalSource } from '../federation/refusal-tally.js';
import type { Receiver } from '../federation/receiver.js';
import type { LookupResponder } from '../lookup/lookup-responder.js';
import { unary } from './grpc-handlers.js';

/**
 * Registers the peer-facing Federation service. Deliver and Lookup receive the raw request bytes
 * (no protobuf parsing by grpc-js), so that the size limit is enforced before any parsing; Lookup
 * answers with the bytes of the answer envelope as the responder sealed them. Every call comes from
 * a connection whose client certificate is pinned (docs/protocol.md 2.5); `sourceOf` names its
 * address and peer for the count of refusals before authentication. GetPeerCard serves renewal
 * between pinned peers (5.3).
 */
export function addFederationService(
  server: Server,
  deps: {
    receiver: Receiver;
    lookups?: LookupResponder;
    card: () => PeerCard;
    sourceOf: (call: { getPeer(): string }) => RefusalSource;
    logger: Logger;
  },
): void {
  const logger = deps.logger.child({ component: 'federation-api' });
  const definition = {
    deliver: { ...FederationService.deliver, requestDeserialize: (bytes: Buffer): Buffer => bytes },
    // Lookup too: raw request bytes in, the answer envelope's bytes out as sealed.
    lookup: {
      ...FederationService.lookup,
      requestDeserialize: (bytes: Buffer): Buffer => bytes,
      responseSerialize: (bytes: Buffer): Buffer => bytes,
    },
    getPeerCard: FederationService.getPeerCard,
  };
  const lookups = deps.lookups;
  server.addService(definition, {
    deliver: unary<Buffer, Receipt>(logger, (raw, _metadata, call) => deps.receiver.deliver(raw, deps.sourceOf(call))),
    lookup: unary<Buffer, Buffer>(logger, async (raw, _metadata, call) => {
      if (!lookups)
        throw new TracenetError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'this node answers no lookups', {
          rule: 'lookups',
        });
      return lookups.lookup(raw, deps.sourceOf(call));
    }),
    getPeerCard: unary<GetPeerCardRequest, GetPeerCardResponse>(logger, async () => ({ card: deps.card() })),
  });
}
