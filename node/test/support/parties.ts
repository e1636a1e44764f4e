import { credentials, type Client, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';
import { rm } from 'node:fs/promises';
import { Envelope, EnvelopeHeader, MessageKind, Notice, type PeerCard, Receipt } from '@tracenet/proto';
import { randomBytes } from '../../src/crypto/sodium.js';
import {
  ENVELOPE_VERSION,
  sealEnvelope,
  sealWithHeader,
  type SealInput,
  type SealedEnvelope,
} from '../../src/envelope/envelope.js';
import { derivePairKey } from '../../src/envelope/pair-key.js';
import { issuePeerCard, loadIdentity, type NodeIdentity } from '../../src/identity/data-dir.js';
import { generateKeyPairs, keyIdOf } from '../../src/crypto/key-pairs.js';
import { PEER_SERVER_NAME, type TlsMaterial } from '../../src/identity/tls.js';
import type { TracenetNode } from '../../src/node.js';
import { makeDataDir } from './nodes.js';

/**
 * A participant that exists only as keys and a card: it seals envelopes by hand, so tests can
 * build what a correct node would never send. It runs no server.
 */
export interface Party {
  readonly identity: NodeIdentity;
  readonly card: PeerCard;
  readonly dataDir: string;
  cleanup(): Promise<void>;
}

/** Creates a party with a fresh data directory, keys and a card issued at `nowMs`. */
export async function makeParty(participantId: string, nowMs: number): Promise<Party> {
  const dataDir = await makeDataDir(participantId, nowMs);
  const identity = await loadIdentity(dataDir);
  return {
    identity,
    card: issuePeerCard(identity, ['127.0.0.1:1'], nowMs),
    dataDir,
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** What sealing needs of an identity; a node's identity or bare keys ({@link keysOnly}). */
export type Keyed = Pick<NodeIdentity, 'participantId' | 'keyId' | 'keys'>;

/** An identity made of fresh keys only, for tests that need no data directory. */
export function keysOnly(participantId: string): Keyed {
  const keys = generateKeyPairs();
  return { participantId, keys, keyId: keyIdOf(keys.signingPublicKey, keys.encryptionPublicKey) };
}

/** The pair key of two identities, as the first one computes it. */
export function pairKeyOf(self: Keyed, peer: Keyed): Buffer {
  return derivePairKey(self.keys.encryptionSecretKey, self.keys.encryptionPublicKey, peer.keys.encryptionPublicKey);
}

/** A fresh message id (128 random bits, base64url). */
export function newMessageId(): string {
  return randomBytes(16).toString('base64url');
}

/** A serialized Notice. */
export function notice(subject = 'subject', text = 'text of a notice'): Buffer {
  return Buffer.from(Notice.encode({ subject, text }).finish());
}

/** Everything of a seal that a test may change; the rest is a correct envelope from `from` to `to`. */
export type SealOverrides = Partial<Omit<SealInput, 'createdAtMs'>> & { readonly createdAtMs?: number };

/** Seals a correct Notice envelope from `from` to `to` created at `nowMs` (ttl one hour) unless overridden. */
export function sealFrom(from: Keyed, to: Keyed, nowMs: number, overrides: SealOverrides = {}): SealedEnvelope {
  const createdAtMs = overrides.createdAtMs ?? nowMs;
  return sealEnvelope({
    sender: from.participantId,
    senderKeyId: from.keyId,
    senderSigningSecretKey: from.keys.signingSecretKey,
    recipient: to.participantId,
    recipientKeyId: to.keyId,
    pairKey: pairKeyOf(from, to),
    messageId: newMessageId(),
    kind: MessageKind.MESSAGE_KIND_NOTICE,
    body: notice(),
    expiresAtMs: createdAtMs + 3_600_000,
    ...overrides,
    createdAtMs,
  });
}

/** A correct header from `from` to `to`, as an object, for tests that encode it themselves. */
export function headerFrom(
  from: Keyed,
  to: Keyed,
  nowMs: number,
  overrides: Partial<EnvelopeHeader> = {},
): EnvelopeHeader {
  return {
    version: ENVELOPE_VERSION,
    sender: from.participantId,
    recipient: to.participantId,
    messageId: newMessageId(),
    kind: MessageKind.MESSAGE_KIND_NOTICE,
    createdAtMs: nowMs,
    expiresAtMs: nowMs + 3_600_000,
    senderKeyId: from.keyId,
    recipientKeyId: to.keyId,
    correlationId: '',
    ...overrides,
  };
}

/** Seals an arbitrary header object with `from`'s keys under the `from`–`to` pair key. */
export function sealHeader(
  from: Keyed,
  to: Keyed,
  header: EnvelopeHeader,
  body: Uint8Array = notice(),
): SealedEnvelope {
  return sealWithHeader(EnvelopeHeader.encode(header).finish(), body, from.keys.signingSecretKey, pairKeyOf(from, to));
}

/** Number of entries of a repository's collection. */
export async function countEntries(collection: { keys(): AsyncIterable<string> }): Promise<number> {
  let n = 0;
  for await (const _key of collection.keys()) n += 1;
  return n;
}

/** Sizes of the sublevels a delivery may touch. */
export interface StoreCounts {
  readonly inbox: number;
  readonly seen: number;
  readonly audit: number;
}

/** Counts inbox, seen and audit entries of a node. */
export async function storeCounts(node: TracenetNode): Promise<StoreCounts> {
  const { inbox, seen } = node.store.messages;
  return { inbox: await inbox.count(), seen: await seen.count(), audit: await node.store.audit.entries.count() };
}

const Generic = makeGenericClientConstructor({}, 'Federation');

/**
 * A bare gRPC client of a node's Federation port: sends raw bytes to Deliver and returns the
 * decoded receipt (or to Lookup and returns the answer's bytes), or rejects with the grpc-js
 * ServiceError exactly as received. It trusts the node's certificate and presents `client`, the
 * TLS certificate of a party the node has pinned (docs/protocol.md 2.5): the envelopes it carries
 * may claim any sender.
 */
export class RawFederationClient {
  readonly #client: Client;

  constructor(address: string, serverCertificatePem: string, client: TlsMaterial) {
    this.#client = new Generic(
      address,
      credentials.createSsl(
        Buffer.from(serverCertificatePem),
        Buffer.from(client.privateKeyPem),
        Buffer.from(client.certificatePem),
      ),
      {
        'grpc.max_send_message_length': -1,
        'grpc.max_receive_message_length': -1,
        'grpc.ssl_target_name_override': PEER_SERVER_NAME,
      },
    );
  }

  deliver(bytes: Uint8Array): Promise<Receipt> {
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        '/tracenet.v1.Federation/Deliver',
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => Receipt.decode(b),
        bytes,
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (error: ServiceError | null, receipt?: Receipt) =>
          error ? reject(error) : receipt ? resolve(receipt) : reject(new Error('empty answer')),
      );
    });
  }

  /** Sends raw bytes to Federation.Lookup; resolves with the raw answer envelope bytes or rejects with the ServiceError. */
  lookup(bytes: Uint8Array, deadlineMs = 10_000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        '/tracenet.v1.Federation/Lookup',
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        bytes,
        new Metadata(),
        { deadline: Date.now() + deadlineMs },
        (error: ServiceError | null, answer?: Buffer) =>
          error ? reject(error) : answer ? resolve(answer) : reject(new Error('empty answer')),
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** Awaits a promise that must reject and returns what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Re-encodes an envelope after `change` edited a copy of it. */
export function reencode(
  envelope: Envelope,
  change: (copy: { header: Buffer; nonce: Buffer; ciphertext: Buffer }) => void,
): Buffer {
  const copy = {
    header: Buffer.from(envelope.header),
    nonce: Buffer.from(envelope.nonce),
    ciphertext: Buffer.from(envelope.ciphertext),
  };
  change(copy);
  return Buffer.from(Envelope.encode(copy).finish());
}

/**
 * Changes one character of the message id inside the serialized header, so that the header still
 * parses and passes every field rule: only the AEAD check can notice.
 */
export function flipHeaderByte(envelope: Envelope): Buffer {
  const messageId = EnvelopeHeader.decode(envelope.header).messageId;
  return reencode(envelope, (copy) => {
    const at = copy.header.indexOf(Buffer.from(messageId, 'ascii'));
    if (at < 0) throw new Error('message id not found in the header');
    copy.header[at] = copy.header[at] === 0x41 ? 0x42 : 0x41;
  });
}
