import { launchEdited } from './patch-source.js';

/** Breaks protocol 5.4: a receipt is taken as proof of delivery whatever envelope digest it names. */
await launchEdited('accepts-receipt-for-another-seal', [
  {
    file: 'envelope/receipt.js',
    replace: [['if (!Buffer.from(body.envelopeDigest).equals(Buffer.from(digest)))', 'if (false)']],
  },
]);
