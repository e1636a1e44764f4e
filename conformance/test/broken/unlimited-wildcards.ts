import { launchEdited } from './patch-source.js';

/** Breaks protocol 13.4: a serial pattern may hold any number of wildcards (rule max_wildcards not applied). */
await launchEdited('unlimited-wildcards', [
  { file: 'records/serial-pattern.js', replace: [['if (serial.wildcards > MAX_WILDCARDS) {', 'if (false) {']] },
]);
