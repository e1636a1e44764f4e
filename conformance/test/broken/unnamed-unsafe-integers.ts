import { launchEdited } from './patch-source.js';

/**
 * Breaks protocol 0: an integer beyond ±(2^53 − 1) is refused as an undecodable message (MALFORMED)
 * without naming the field and rule safe_integer, in the header and in message bodies.
 */
await launchEdited('unnamed-unsafe-integers', [
  { file: 'envelope/safe-integers.js', replace: [['if (field !== undefined) {', 'if (false) {']] },
]);
