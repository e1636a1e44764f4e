import { launchEdited } from './patch-source.js';

/** Breaks protocol 18.5: a REEXPORT_NOTICE whose flag names another exporter than the node is taken. */
await launchEdited('reexport-any-exporter', [
  {
    file: 'messages/reexport-notice.js',
    replace: [['if (flag.exporter !== recipient)', 'if (false)']],
  },
]);
