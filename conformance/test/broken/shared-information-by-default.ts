import { launchEdited } from './patch-source.js';

/** Breaks protocol 6.3 / 12.5: SHARED_INFORMATION opens a case from any pinned peer, policy or not (deny by default applied to trace requests only). */
await launchEdited('shared-information-by-default', [
  {
    file: 'workflow/inbound.js',
    replace: [
      [
        'const OPENS_A_CASE = [K.MESSAGE_KIND_TRACE_REQUEST, K.MESSAGE_KIND_SHARED_INFORMATION];',
        'const OPENS_A_CASE = [K.MESSAGE_KIND_TRACE_REQUEST];',
      ],
    ],
  },
]);
