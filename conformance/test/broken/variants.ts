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
  {
    name: 'skips-header-auth',
    breaks: 'protocol 4.5: header and ciphertext not authenticated (AEAD tag ignored)',
    caughtBy: ['envelope.tampered-header', 'envelope.tampered-ciphertext'],
  },
  {
    name: 'ignores-wrong-recipient',
    breaks: 'protocol 4.4: header.recipient not compared with the node',
    caughtBy: ['envelope.wrong-recipient'],
  },
  {
    name: 'accepts-bad-signature',
    breaks: 'protocol 4.9 step 8: signature not verified',
    caughtBy: ['envelope.bad-signature', 'envelope.signature-covers-header'],
  },
  { name: 'accepts-expired', breaks: 'protocol 4.7: expired envelopes accepted', caughtBy: ['envelope.expired'] },
  {
    name: 'remembers-forgeries',
    breaks: 'protocol 4.11: refusals before authentication remembered (seen-set poisoning)',
    caughtBy: ['envelope.refusal-not-remembered'],
  },
  {
    name: 'accepts-replay',
    breaks: 'protocol 4.8: a copy of an accepted envelope is processed again',
    caughtBy: ['delivery.duplicate-copy'],
  },
  {
    name: 'signs-receipts-wrongly',
    breaks: "protocol 4.12: receipts signed with a key other than the card's",
    caughtBy: ['envelope.valid-notice', 'delivery.duplicate-copy'],
  },
  {
    name: 'accepts-requests-by-default',
    breaks: 'protocol 12.5: deny by default not applied to trace requests',
    caughtBy: ['access.request-denied-by-default'],
  },
  {
    name: 'accepts-incomplete-request',
    breaks: 'protocol 12.2: required request content not checked',
    caughtBy: ['request.incomplete-rejected'],
  },
  {
    name: 'answers-before-acknowledging',
    breaks: 'protocol 12.3: an answer sent for a request never acknowledged',
    caughtBy: ['ack.no-answer-before-ack'],
  },
  {
    name: 'refuses-without-reason',
    breaks: 'protocol 12.1/12.2: refusal sent without reason and explanation',
    caughtBy: ['refusal.sent-with-reason'],
  },
  {
    name: 'leaks-record-fields',
    breaks: "protocol 13.3: a lookup hit carries the record's serial number",
    caughtBy: ['lookups.no-leakage'],
  },
  {
    name: 'no-lookup-rate-limit',
    breaks: 'protocol 13.8: lookups_per_minute not enforced',
    caughtBy: ['lookups.rate-limited'],
  },
  {
    name: 'shares-without-consent',
    breaks: "protocol 14.3: restricted information shared without the provider's consent",
    caughtBy: ['restrictions.share-without-consent-refused'],
  },
  {
    name: 'signs-receipts-with-another-label',
    breaks: 'protocol 4.12: receipts signed over another domain label',
    caughtBy: ['vectors.known-envelope', 'envelope.valid-notice'],
  },
  {
    name: 'derives-pair-key-with-another-label',
    breaks: 'protocol 3.3: pair key derived under another domain label',
    caughtBy: ['vectors.known-envelope', 'envelope.valid-notice'],
  },
  {
    name: 'digests-with-another-label',
    breaks: 'protocol 3.6: envelope digest under another domain label',
    caughtBy: ['vectors.known-envelope', 'envelope.valid-notice'],
  },
  {
    name: 'verifies-reencoded-header',
    breaks: 'protocol 0, 3.4: signature checked over the header re-encoded, not the bytes received',
    caughtBy: ['envelope.header-bytes-as-received'],
  },
  {
    name: 'accepts-other-pinned-signature',
    breaks: "protocol 4.9: a signature accepted when it verifies under another pinned peer's key",
    caughtBy: ['envelope.signature-of-other-pinned-peer'],
  },
  {
    name: 'does-not-require-recipient-key-id',
    breaks: 'protocol 4.3: an empty recipient_key_id not refused as MISSING_FIELD',
    caughtBy: ['required.header-fields'],
  },
  {
    name: 'does-not-require-case-reference',
    breaks: 'protocol 12.2: a trace request without case reference accepted',
    caughtBy: ['required.request-fields'],
  },
  {
    name: 'accepts-receipt-for-another-seal',
    breaks: 'protocol 5.4: a receipt naming another envelope digest taken as proof of delivery',
    caughtBy: ['outbound.receipt-for-another-seal'],
  },
  {
    name: 'forgets-seen-set-on-restart',
    breaks: 'protocol 4.6, 4.8: the seen-set does not survive a restart',
    caughtBy: ['restart.seen-set'],
  },
  {
    name: 'ignores-resend-request',
    breaks: 'protocol 5.6: a RESEND_REQUEST receipted but nothing delivered again',
    caughtBy: ['outbound.resend-request'],
  },
  {
    name: 'loses-outbox-on-restart',
    breaks: 'protocol 5.5: queued messages do not survive a restart',
    caughtBy: ['restart.outbox-continues'],
  },
  {
    name: 'lookups-skip-token',
    breaks: 'protocol 7.1: an Authority service (Lookups) that skips the token check',
    caughtBy: ['authority.token-every-method'],
  },
  {
    name: 'decision-from-any-peer',
    breaks: 'protocol 14.4: a consent decision accepted from a peer that is not the provider',
    caughtBy: ['restrictions.decision-from-other-peer'],
  },
  {
    name: 'shares-with-unlisted',
    breaks: 'protocol 14.3: an onward disclosure allowed to a participant not on the listed basis',
    caughtBy: ['restrictions.share-unlisted-refused'],
  },
  {
    name: 'grace-key-signs-key-messages',
    breaks: 'protocol 15.2: a key message signed by a key in its grace period processed',
    caughtBy: ['keys.key-message-signed-by-grace-key'],
  },
  {
    name: 'previous-key-after-grace',
    breaks: 'protocol 15.2: previous keys accepted after the grace',
    caughtBy: ['keys.grace-ends'],
  },
  {
    name: 'ignores-roster-membership',
    breaks: 'protocol 15.5: a sender the roster no longer lists accepted',
    caughtBy: ['roster.envelopes'],
  },
  {
    name: 'accepts-duplicate-without-original',
    breaks: 'protocol 5.4: a DUPLICATE receipt without original taken as proof',
    caughtBy: ['outbound.duplicate-without-original'],
  },
  {
    name: 'accepts-older-rotation',
    breaks: 'protocol 15.2: a rotation to a card not newer than the pinned one accepted',
    caughtBy: ['keys.rotation-checks'],
  },
  {
    name: 'forgets-revocations',
    breaks: 'protocol 15.3: revoked key ids of a peer not refused',
    caughtBy: ['keys.revocation'],
  },
  {
    name: 'pins-outside-roster',
    breaks: 'protocol 15.5: a participant the roster does not list pinned',
    caughtBy: ['roster.membership'],
  },
  {
    name: 'roster-never-lapses',
    breaks: 'protocol 15.5: an expired roster never lapses',
    caughtBy: ['roster.expiry-and-grace'],
  },
  {
    name: 'lookup-without-purpose',
    breaks: 'protocol 13.3: a lookup query without purpose answered',
    caughtBy: ['required.lookup-fields'],
  },
  {
    name: 'import-format-may-change',
    breaks: 'protocol 11.5: an import stream may change its format',
    caughtBy: ['authority.import-format-fixed'],
  },
  {
    name: 'forgets-policies-on-restart',
    breaks: 'protocol 12.5: peer policies do not survive a restart',
    caughtBy: ['restart.pins-policies-cases'],
  },
  {
    name: 'tells-recipient-key-apart',
    breaks:
      "protocol 4.4: an envelope sealed to a key id that is not the node's gets its precise reason, not the one refusal",
    caughtBy: ['envelope.one-refusal', 'lookups.one-refusal', 'envelope.wrong-recipient-key'],
  },
  {
    name: 'correlation-id-any-characters',
    breaks: 'protocol 3.2: a correlation id may hold spaces, controls and bidirectional overrides',
    caughtBy: ['envelope.correlation-id-visible-ascii'],
  },
  {
    name: 'unnamed-unsafe-integers',
    breaks: 'protocol 0: an integer beyond ±(2^53 − 1) refused without naming its field (safe_integer)',
    caughtBy: ['envelope.unsafe-integer', 'required.use-restriction-fields'],
  },
  {
    name: 'unlimited-wildcards',
    breaks: 'protocol 13.4: a serial pattern may hold more than 10 wildcards',
    caughtBy: ['lookups.max-wildcards'],
  },
  {
    name: 'backtracking-wildcards',
    breaks: 'protocol 13.4: wildcard serials matched with a backtracking regular expression',
    caughtBy: ['lookups.adversarial-pattern'],
  },
  {
    name: 'hides-destroyed-hits',
    breaks: 'protocol 19.4: a hit on a weapon recorded as destroyed is not marked recorded_destroyed',
    caughtBy: ['destruction.lookup-hit'],
  },
  {
    name: 'misses-recirculated-requests',
    breaks: 'protocol 19.5: a trace request for a weapon recorded as destroyed is not flagged',
    caughtBy: ['destruction.recirculated-request'],
  },
  {
    name: 'signs-certificates-without-domain',
    breaks: 'protocol 19.3: destruction certificates signed without their domain label',
    caughtBy: ['destruction.certificate'],
  },
  {
    name: 'consent-request-without-reason',
    breaks: 'protocol 14.4: a consent request without reason passes the body rules',
    caughtBy: ['required.use-restriction-fields'],
  },
  {
    name: 'shared-information-by-default',
    breaks: 'protocol 12.5: SHARED_INFORMATION accepted from a peer whose policy does not accept requests',
    caughtBy: ['restrictions.shared-information-denied-by-default'],
  },
  {
    name: 'unpadded-lookup-answers',
    breaks: 'protocol 13.6: lookup answers not padded (a hit longer than a no-hit)',
    caughtBy: ['lookups.answer-size'],
  },
  {
    name: 'applies-unlisted-rotation',
    breaks: 'protocol 15.2: with a roster, a rotation to a key the roster does not list applied at once, not held',
    caughtBy: ['roster.rotation-held'],
  },
  {
    name: 'ignores-roster-federation',
    breaks: 'protocol 15.4: a roster of another federation loaded (its name not compared with federation.name)',
    caughtBy: ['roster.other-federation'],
  },
  {
    name: 'accepts-control-characters',
    breaks: 'protocol 2.3: a card whose display name holds control or format characters verifies',
    caughtBy: ['authority.pin-control-characters', 'keys.rotation-checks'],
  },
  {
    name: 'accepts-bad-records-profile',
    breaks:
      'protocol 2.3 step 9: a card whose records profile names an unknown kind, a kind twice or a year out of range verifies',
    caughtBy: ['quality.profile-refused'],
  },
  {
    name: 'ignores-records-profile',
    breaks: 'protocol 17.2: the traceability estimate ignores the records profile of the pinned card',
    caughtBy: ['quality.traceability'],
  },
  {
    name: 'remove-peer-keeps-pin',
    breaks: 'protocol 2.4: after RemovePeer the running node still authenticates the peer',
    caughtBy: ['authority.remove-peer'],
  },
  {
    name: 'refuses-previous-key-receipts',
    breaks:
      'protocol 5.4: receipts remembered by a peer from before its rotation (its previous key, in grace) neither prove delivery nor end a message',
    caughtBy: ['outbound.receipt-of-previous-key'],
  },
  {
    name: 'previous-key-receipts-forever',
    breaks: "protocol 5.4: receipts signed with a peer's previous key accepted after the grace",
    caughtBy: ['outbound.receipt-of-previous-key-after-grace'],
  },
  {
    name: 'reexport-any-exporter',
    breaks: 'protocol 18.5: a re-export notice naming another exporter than the node is accepted',
    caughtBy: ['reexport.notice-refused'],
  },
];
