import { launchEdited } from './patch-source.js';

/** Breaks protocol 0 and 3.4 (bytes as received): the signature is checked over the header re-encoded, not over the bytes received. */
await launchEdited('verifies-reencoded-header', [
  {
    file: 'envelope/envelope.js',
    replace: [
      [
        'signedBytes(parsed.envelope.header, sealed.body)',
        'signedBytes(EnvelopeHeader.encode(parsed.header).finish(), sealed.body)',
      ],
    ],
  },
]);
