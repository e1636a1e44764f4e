import { launchEdited } from './patch-source.js';

/**
 * Breaks protocol 19.4: a lookup hit on a weapon recorded as destroyed does not say so.
 */
await launchEdited('hides-destroyed-hits', [
  {
    file: 'lookup/lookup-responder.js',
    replace: [['recordedDestroyed: entry.destroyedDate !== undefined', 'recordedDestroyed: false']],
  },
]);
