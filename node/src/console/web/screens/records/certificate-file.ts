import { DestructionCertificate, type WeaponRecord } from '@tracenet/proto/browser';

// The parts of the destruction forms that need no page: tested alone (node/test/console/stats-unit.test.ts).

/** The `format` of a certificate file, as `tracenet records certificate` writes it (docs/records.md). */
export const CERTIFICATE_FILE_FORMAT = 'tracenet-destruction-certificate/1';

/**
 * A certificate as a file, the same the CLI writes: its format, issuer and id to read, the body and
 * the signature in base64 (verified as they are, never re-serialized).
 */
export function certificateFileText(
  certificate: DestructionCertificate,
  issuer: string,
  certificateId: string,
): string {
  const json = DestructionCertificate.toJSON(certificate) as { body?: string; signature?: string };
  return `${JSON.stringify(
    { format: CERTIFICATE_FILE_FORMAT, issuer, certificateId, body: json.body ?? '', signature: json.signature ?? '' },
    null,
    2,
  )}\n`;
}

/**
 * A destruction certificate from a file: the JSON the console and the CLI write (`body` and
 * `signature` in base64), or the certificate's protobuf bytes. Undefined when it is neither.
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
