import { launchEdited } from './patch-source.js';

/** Breaks protocol 13.6: lookup answers are not padded, so a hit is longer on the wire than a no-hit. */
await launchEdited('unpadded-lookup-answers', [
  {
    file: 'lookup/lookup-responder.js',
    replace: [['padding: Buffer.alloc(size - bare - 3) }', 'padding: Buffer.alloc(0) }']],
  },
]);
