import { PeerCard } from '@tracenet/proto';
import { describe, expect, it } from 'vitest';
import { cardFingerprints } from '../../src/cli/peer-commands.js';
import { initSodium, sodium } from '../../src/crypto/sodium.js';
import { toPeerCardFile, verifyPeerCard } from '../../src/identity/peer-card.js';
import { blake2b } from '../../src/console/web/screens/admin/blake2b.js';
import {
  CardFileError,
  cardFileText,
  grouped,
  readCardFile,
  readRosterFile,
} from '../../src/console/web/screens/admin/card-file.js';
import { makeParty } from '../support/parties.js';

/** The console reads card files in the browser with the checks and fingerprints of `tracenet peers show`. */
describe('the console reading a peer card file', () => {
  const refusal = async (text: string, nowMs = Date.now()) => {
    try {
      await readCardFile(text, nowMs);
    } catch (error) {
      if (error instanceof CardFileError) return { rule: error.rule, field: error.field };
      throw error;
    }
    throw new Error('the card file was accepted');
  };

  it('computes BLAKE2b-256 as libsodium does', async () => {
    await initSodium();
    for (const size of [0, 1, 64, 127, 128, 129, 300]) {
      const input = Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff);
      expect(Buffer.from(blake2b(input, 32)).toString('hex')).toBe(
        Buffer.from(sodium().crypto_generichash(32, input, null)).toString('hex'),
      );
    }
  });

  it('shows the fingerprints the CLI prints, computed from the signed card', async () => {
    await initSodium();
    const now = Date.now();
    const party = await makeParty('TCD', now);
    const file = `${JSON.stringify(toPeerCardFile(party.card), null, 2)}\n`;
    const read = await readCardFile(file, now);
    const cli = cardFingerprints(verifyPeerCard(party.card, now));
    expect(read.fingerprints).toMatchObject({
      participantId: cli.participantId,
      kind: cli.kind,
      keyId: cli.keyId,
      tlsFingerprint: cli.tlsFingerprint,
      signingPublicKey: cli.signingPublicKey,
      encryptionPublicKey: cli.encryptionPublicKey,
      endpoints: cli.endpoints,
    });
    expect(grouped(read.fingerprints.keyId)).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    expect(Buffer.from(read.body).equals(party.card.body)).toBe(true);
    // The console writes the node's own card file as `tracenet peers export` does.
    const json = PeerCard.toJSON(party.card) as { body: string; signature: string };
    expect(cardFileText(json)).toBe(file);
  });

  it('refuses what is not a card file, an altered one and a broken signature, naming the rule', async () => {
    await initSodium();
    const now = Date.now();
    const party = await makeParty('TCD', now);
    const file = toPeerCardFile(party.card);
    expect(await refusal('<html>not a card</html>')).toEqual({ rule: 'json', field: 'card' });
    expect(await refusal('{"format":"something-else"}')).toEqual({ rule: 'format', field: 'card' });
    expect(await refusal(JSON.stringify({ ...file, card: `${file.card}\n` }))).toMatchObject({ rule: 'base64' });
    expect(await refusal(JSON.stringify({ ...file, keyId: '0000000000000000' }))).toEqual({
      rule: 'signed_content',
      field: 'keyId',
    });
    const { keyId: _dropped, ...withoutKeyId } = file;
    expect(await refusal(JSON.stringify(withoutKeyId))).toEqual({ rule: 'required', field: 'keyId' });
    const signature = Buffer.from(party.card.signature);
    signature[0] = (signature[0] ?? 0) ^ 0xff;
    const broken = toPeerCardFile({ body: party.card.body, signature });
    expect(await refusal(JSON.stringify(broken))).toEqual({ rule: 'signature', field: 'card.signature' });
    expect(await refusal(JSON.stringify(file), now + 10 * 365 * 86_400_000)).toEqual({
      rule: 'validity',
      field: 'card.valid_until_ms',
    });
    expect(() => readRosterFile('{"format":"tracenet-peer-card/1"}')).toThrow(CardFileError);
  });
});
