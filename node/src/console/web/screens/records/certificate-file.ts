import { DestructionCertificate, type WeaponRecord } from '@tracenet/proto/browser';

// The parts of the destruction forms that need no page: tested alone (node/test/console/stats-unit.test.ts).

/**
 * A destruction certificate from a file: the JSON the console saves (`{ "body", "signature" }` in
 * base64), or the certificate's protobuf bytes. Undefined when it is neither.
 */
export function certificateOf(bytes: Uint8Array): DestructionCertificate | undefined {
  try {
    const parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
    if (parsed && typeof parsed === 'object' && 'body' in parsed && 'signature' in parsed) {
      const cert = DestructionCertificate.fromJSON(parsed);
      return cert.body.length > 0 ? cert : undefined;
    }
    return undefined;
  } catch {
    try {
      const cert = DestructionCertificate.decode(bytes);
      return cert.body.length > 0 && cert.signature.length > 0 ? cert : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The words an officer types to confirm a destruction: the weapon's serial, else the record's id. */
export function confirmationWord(record: WeaponRecord): string {
  return record.manufacture?.serialNumber || record.controlComponent?.serialNumber || record.recordId;
}

/** The witnesses of a textarea, one a line, blank lines dropped. */
export function witnessesOf(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
