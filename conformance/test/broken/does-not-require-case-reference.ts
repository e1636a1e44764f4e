import { launchEdited } from './patch-source.js';

/** Breaks protocol 12.2: a trace request without case reference is not refused. */
await launchEdited('does-not-require-case-reference', [
  {
    file: 'messages/validation.js',
    replace: [["v.text(f('case_reference'), request.caseReference, 'case reference', 200);", '']],
  },
]);
