import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerCardBody } from '@tracenet/proto';
import {
  CardFailure,
  cardOfFile,
  initCodec,
  keyIdOf,
  participantKeys,
  signCard,
  verifyCard,
} from '../src/codec/index.js';
import { CLI, requireBuilt } from './support.js';

const run = promisify(execFile);

/**
 * The suite reads a node's card file (`--card`, protocol 2.6) with its own reader, which must
 * accept what the reference node exports and refuse, in the order 2.6 gives, a file whose
 * readable members disagree with its signed card — a forged file showing a real key id included.
 * No Authority method takes a card file, so no case can send one to a node; the node's own
 * reader is judged by node/test/identity.test.ts (docs/conformance.md section 9).
 */
describe("the suite's card file reader (protocol 2.6)", () => {
  let dir: string;
  let exported: Record<string, unknown>;

  beforeAll(async () => {
    requireBuilt();
    await initCodec();
    dir = await mkdtemp(join(tmpdir(), 'tracenet-conformance-card-'));
    await run(process.execPath, [CLI, 'init', '--id', 'BEL', '--data', dir]);
    exported = JSON.parse((await run(process.execPath, [CLI, 'peers', 'export', '--data', dir])).stdout) as Record<
      string,
      unknown
    >;
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const refusal = (file: unknown): [string, string] | undefined => {
    try {
      cardOfFile(typeof file === 'string' ? file : JSON.stringify(file));
      return undefined;
    } catch (error) {
      if (!(error instanceof CardFailure)) throw error;
      return [error.field, error.rule];
    }
  };

  it('reads the card file the reference node exports, and its card verifies', () => {
    const card = cardOfFile(JSON.stringify(exported));
    expect(verifyCard(card, Date.now()).participantId).toBe('BEL');
  });

  it('refuses a file whose readable members disagree with the signed card, each naming the member', () => {
    const other = participantKeys();
    const changed: Record<string, unknown> = {
      participantId: 'FRA',
      kind: 'organisation',
      displayName: 'BEL (forged)',
      endpoints: [...(exported.endpoints as string[]), '127.0.0.1:2'],
      keyId: Buffer.from(other.signingPublicKey.subarray(0, 8)).toString('hex'),
      tlsFingerprint: (exported.tlsFingerprint as string).toUpperCase(),
      validUntil: new Date(Date.parse(exported.validUntil as string) + 1).toISOString(),
    };
    for (const [member, value] of Object.entries(changed))
      expect(refusal({ ...exported, [member]: value }), member).toEqual([member, 'signed_content']);
    const { keyId: _keyId, ...withoutKeyId } = exported;
    expect(refusal(withoutKeyId)).toEqual(['keyId', 'required']);
  });

  it('refuses what is not a card file, and a card that is not standard base64 with padding', () => {
    const card = exported.card as string;
    expect(refusal('not json')).toEqual(['card', 'json']);
    expect(refusal([exported])).toEqual(['card', 'json']);
    expect(refusal({ ...exported, format: 'tracenet-peer-card/2' })).toEqual(['card', 'format']);
    const bytes = Buffer.from(card, 'base64');
    const wrong = [`${card}=`, `${card.slice(0, 20)}\n${card.slice(20)}`, ` ${card}`, bytes.toString('base64url'), ''];
    for (const text of wrong.filter((t) => t !== card))
      expect(refusal({ ...exported, card: text }), JSON.stringify(text.slice(-4))).toEqual(['card', 'base64']);
    expect(refusal({ ...exported, card: Buffer.from('not a card').toString('base64') })).toEqual(['card', 'protobuf']);
  });

  it('verifies a card as 2.3 says, refusing control and format characters in its display name but for the two joiners', () => {
    const card = cardOfFile(JSON.stringify(exported));
    const body = PeerCardBody.decode(card.body);
    const keys = participantKeys();
    const resigned = (displayName: string) => {
      const bel = {
        ...body,
        displayName,
        signingPublicKey: keys.signingPublicKey,
        encryptionPublicKey: keys.encryptionPublicKey,
        keyId: keyIdOf(keys),
      };
      try {
        verifyCard(signCard(bel, keys.signingSecretKey), Date.now());
        return 'verifies';
      } catch (error) {
        return error instanceof CardFailure ? `${error.field} ${error.rule}` : String(error);
      }
    };
    for (const c of ['\u001b', '\u0085', '\u202e', '\u2066', '\u200b', '\ufeff', '\u2028', '\u{e0041}'])
      expect(resigned(`BEL${c}`), c).toBe('card.display_name control_character');
    expect(resigned('BEL \u200c\u200d')).toBe('verifies');
  });
});
