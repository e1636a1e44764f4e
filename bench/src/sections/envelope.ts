import {
  decryptEnvelope,
  generateKeyPairs,
  derivePairKey,
  initSodium,
  keyIdOf,
  parseEnvelope,
  verifyEnvelopeSignature,
  DEFAULT_MAX_ENVELOPE_BYTES,
} from '@tracenet/node';
import { opsPerSecond } from '../load.js';
import { noticeSealer } from '../notices.js';
import type { Sizes } from '../sizes.js';

export interface EnvelopeResult {
  readonly library: string;
  readonly bodyBytes: number;
  readonly envelopeBytes: number;
  /** sealEnvelope: sign (Ed25519) then encrypt (XChaCha20-Poly1305, pair key, random nonce). */
  readonly sealPerSecond: number;
  /** parseEnvelope + decryptEnvelope + verifyEnvelopeSignature: what a recipient does before storing. */
  readonly openPerSecond: number;
  /** The same primitives with sodium-native, when that package happens to be installed (it is not a dependency). */
  readonly sodiumNative: {
    readonly installed: boolean;
    readonly signPerSecond?: number;
    readonly verifyPerSecond?: number;
  };
}

/** sodium-native's functions used here (the package ships no types). */
interface SodiumNative {
  crypto_sign_BYTES: number;
  crypto_sign_PUBLICKEYBYTES: number;
  crypto_sign_SECRETKEYBYTES: number;
  crypto_sign_keypair(pk: Buffer, sk: Buffer): void;
  crypto_sign_detached(sig: Buffer, m: Buffer, sk: Buffer): void;
  crypto_sign_verify_detached(sig: Buffer, m: Buffer, pk: Buffer): boolean;
}

async function sodiumNative(): Promise<SodiumNative | undefined> {
  const name = 'sodium-native';
  try {
    const module = (await import(name)) as { default?: SodiumNative };
    return module.default ?? (module as unknown as SodiumNative);
  } catch {
    return undefined;
  }
}

/** What the node's envelope code runs on. */
const LIBRARY = 'Ed25519 signing: Node crypto (OpenSSL); verification, AEAD, BLAKE2b: libsodium-wrappers (WASM)';

/**
 * Envelope seal and open per second in this process (section 2) with the node's own code — the
 * Ed25519 signature by Node's crypto, verification, XChaCha20-Poly1305 and BLAKE2b by
 * libsodium-wrappers (WASM) — one core, 1 KiB Notice body; every envelope has its own message id.
 */
export async function benchEnvelope(sizes: Sizes, log: (line: string) => void): Promise<EnvelopeResult> {
  await initSodium();
  const sender = generateKeyPairs();
  const recipient = generateKeyPairs();
  const bodyBytes = 1024;
  const seal = noticeSealer(
    { participantId: 'FRA', keyId: keyIdOf(sender.signingPublicKey, sender.encryptionPublicKey), keys: sender },
    {
      participantId: 'BEL',
      keyId: keyIdOf(recipient.signingPublicKey, recipient.encryptionPublicKey),
      keys: recipient,
    },
    bodyBytes,
  );
  const openKey = derivePairKey(
    recipient.encryptionSecretKey,
    recipient.encryptionPublicKey,
    sender.encryptionPublicKey,
  );
  const sealed = seal();
  const sealRate = opsPerSecond(sizes.envelopeMs, () => seal());
  const pool = Array.from({ length: 256 }, () => seal().bytes);
  const openRate = opsPerSecond(sizes.envelopeMs, (i) => {
    const parsed = parseEnvelope(pool[i % pool.length] ?? sealed.bytes, DEFAULT_MAX_ENVELOPE_BYTES);
    const content = decryptEnvelope(parsed, openKey);
    verifyEnvelopeSignature(parsed, content, sender.signingPublicKey);
  });
  log(
    `  seal ${sealRate.perSecond}/s, open ${openRate.perSecond}/s (${LIBRARY}, ${sealed.bytes.length}-byte envelopes)`,
  );

  const native = await sodiumNative();
  let nativeResult: EnvelopeResult['sodiumNative'] = { installed: false };
  if (native) {
    const pk = Buffer.alloc(native.crypto_sign_PUBLICKEYBYTES);
    const sk = Buffer.alloc(native.crypto_sign_SECRETKEYBYTES);
    native.crypto_sign_keypair(pk, sk);
    const { body } = decryptEnvelope(parseEnvelope(sealed.bytes, DEFAULT_MAX_ENVELOPE_BYTES), openKey);
    const message = Buffer.concat([sealed.envelope.header, body]);
    const sig = Buffer.alloc(native.crypto_sign_BYTES);
    const sign = opsPerSecond(sizes.envelopeMs, () => native.crypto_sign_detached(sig, message, sk));
    const verify = opsPerSecond(sizes.envelopeMs, () => native.crypto_sign_verify_detached(sig, message, pk));
    nativeResult = { installed: true, signPerSecond: sign.perSecond, verifyPerSecond: verify.perSecond };
    log(`  sodium-native Ed25519 sign ${sign.perSecond}/s, verify ${verify.perSecond}/s`);
  } else log('  sodium-native is not installed: not measured');
  return {
    library: LIBRARY,
    bodyBytes,
    envelopeBytes: sealed.bytes.length,
    sealPerSecond: sealRate.perSecond,
    openPerSecond: openRate.perSecond,
    sodiumNative: nativeResult,
  };
}
