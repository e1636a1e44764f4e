import { launchEdited } from './patch-source.js';

/** Breaks protocol 14.4: a consent decision is taken from any pinned peer that names the trace, not only from the provider. */
await launchEdited('decision-from-any-peer', [
  {
    file: 'workflow/disclosures.js',
    replace: [
      [
        'if (c.peer !== message.sender)\n                throw unknown();\n            // Named like',
        'if (c.peer !== message.sender && decoded.kind !== K.MESSAGE_KIND_CONSENT_DECISION)\n                throw unknown();\n            // Named like',
      ],
    ],
  },
]);
