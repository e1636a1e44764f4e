/**
 * The deliberately broken nodes of the suite's own tests: each launcher under this folder starts
 * the real reference node with exactly one rule broken, and the suite must fail it on `caughtBy`.
 */
export interface BrokenVariant {
  /** File name of the launcher without extension (`broken/<name>.ts`, built to `broken/dist/<name>.js`). */
  readonly name: string;
  /** The rule of docs/protocol.md it breaks. */
  readonly breaks: string;
  /** Case ids that must fail against it (each is asserted). */
  readonly caughtBy: readonly string[];
  /** What to run against it (`--only`); defaults to `caughtBy`. */
  readonly only?: readonly string[];
}

export const VARIANTS: readonly BrokenVariant[] = [
  { name: 'skips-header-auth', breaks: 'protocol 4.5: header and ciphertext not authenticated (AEAD tag ignored)', caughtBy: ['envelope.tampered-header', 'envelope.tampered-ciphertext'] },
  { name: 'ignores-wrong-recipient', breaks: 'protocol 4.4: header.recipient not compared with the node', caughtBy: ['envelope.wrong-recipient'] },
  { name: 'accepts-bad-signature', breaks: 'protocol 4.9 step 8: signature not verified', caughtBy: ['envelope.bad-signature', 'envelope.signature-covers-header'] },
  { name: 'accepts-expired', breaks: 'protocol 4.7: expired envelopes accepted', caughtBy: ['envelope.expired'] },
  { name: 'remembers-forgeries', breaks: 'protocol 4.11: refusals before authentication remembered (seen-set poisoning)', caughtBy: ['envelope.refusal-not-remembered'] },
  { name: 'accepts-replay', breaks: 'protocol 4.8: a copy of an accepted envelope is processed again', caughtBy: ['delivery.duplicate-copy'] },
  { name: 'signs-receipts-wrongly', breaks: 'protocol 4.12: receipts signed with a key other than the card\'s', caughtBy: ['envelope.valid-notice', 'delivery.duplicate-copy'] },
  { name: 'accepts-requests-by-default', breaks: 'protocol 12.5: deny by default not applied to trace requests', caughtBy: ['access.request-denied-by-default'] },
  { name: 'accepts-incomplete-request', breaks: 'protocol 12.2: required request content not checked', caughtBy: ['request.incomplete-rejected'] },
  { name: 'answers-before-acknowledging', breaks: 'protocol 12.3: an answer sent for a request never acknowledged', caughtBy: ['ack.no-answer-before-ack'] },
  { name: 'refuses-without-reason', breaks: 'protocol 12.1/12.2: refusal sent without reason and explanation', caughtBy: ['refusal.sent-with-reason'] },
  { name: 'leaks-record-fields', breaks: 'protocol 13.3: a lookup hit carries the record\'s serial number', caughtBy: ['lookups.no-leakage'] },
  { name: 'no-lookup-rate-limit', breaks: 'protocol 13.8: lookups_per_minute not enforced', caughtBy: ['lookups.rate-limited'] },
  { name: 'shares-without-consent', breaks: 'protocol 14.3: restricted information shared without the provider\'s consent', caughtBy: ['restrictions.share-without-consent-refused'] },
];
