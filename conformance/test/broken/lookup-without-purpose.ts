import { launchEdited } from './patch-source.js';

/** Breaks protocol 13.3: a lookup query without a purpose is answered. */
await launchEdited('lookup-without-purpose', [
  {
    file: 'lookup/matcher.js',
    replace: [["required('purpose', 'the purpose of the lookup is required; the owner of a hit records it');", '{}']],
  },
]);
