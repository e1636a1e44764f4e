import { launchEdited } from './patch-source.js';

/**
 * Breaks protocol 19.5: a trace request for a weapon recorded as destroyed opens a case without
 * the recirculation finding.
 */
await launchEdited('misses-recirculated-requests', [
  {
    file: 'workflow/recirculation.js',
    replace: [['if (!record?.destruction)', 'if (record || !record)']],
  },
]);
