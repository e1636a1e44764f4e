import { launchEdited } from './patch-source.js';

/** Breaks protocol 17.2: the traceability estimate ignores the records profiles of pinned cards (only the ITI minimums). */
await launchEdited('ignores-records-profile', [
  {
    file: 'workflow/officer-commands.js',
    replace: [
      ['const profileOf = this.deps.recordsProfile ?? (() => undefined);', 'const profileOf = () => undefined;'],
    ],
  },
]);
