import { launchEdited } from './patch-source.js';

/** Breaks protocol 2.3 check 4: a card whose display name holds control or format characters verifies (at pinning and in a KEY_ROTATION). */
await launchEdited('accepts-control-characters', [
  {
    file: 'identity/peer-card.js',
    replace: [['const unsafe = unsafeCharacter(body.displayName);', 'const unsafe = undefined;']],
  },
]);
