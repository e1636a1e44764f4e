import { launchEdited } from './patch-source.js';

/** Breaks protocol 11.5: a later ImportRecords message may name another format than the first. */
await launchEdited('import-format-may-change', [
  {
    file: 'api/records-service.js',
    replace: [
      [
        'if (message.format !== ImportFormat.IMPORT_FORMAT_UNSPECIFIED && message.format !== first.format) {',
        'if (false) {',
      ],
    ],
  },
]);
