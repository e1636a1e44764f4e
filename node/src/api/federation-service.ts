import type { Server } from '@grpc/grpc-js';
import { FederationService, type GetPeerCardRequest, type GetPeerCardResponse, type PeerCard, type Receipt } from '@tracenet/proto';
import type { Logger } from 'pino';
import type { Receiver } from '../federation/receiver.js';
import { unary } from './grpc-handlers.js';

/**
 * Registers the peer-facing Federation service. Deliver receives the raw request bytes (no
 * protobuf parsing by grpc-js), so that the size limit is enforced before any parsing.
 */
export function addFederationService(server: Server, deps: { receiver: Receiver; card: () => PeerCard; logger: Logger }): void {
  const logger = deps.logger.child({ component: 'federation-api' });
  const definition = {
    deliver: { ...FederationService.deliver, requestDeserialize: (bytes: Buffer): Buffer => bytes },
    getPeerCard: FederationService.getPeerCard,
  };
  server.addService(definition, {
    deliver: unary<Buffer, Receipt>(logger, (raw) => deps.receiver.deliver(raw)),
    getPeerCard: unary<GetPeerCardRequest, GetPeerCardResponse>(logger, async () => ({ card: deps.card() })),
  });
}
