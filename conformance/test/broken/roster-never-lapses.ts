import { launchEdited } from './patch-source.js';

/** Breaks protocol 15.5: an expired roster stays in its grace for ever, so its peers are never refused. */
await launchEdited('roster-never-lapses', [
  {
    file: 'keys/roster.js',
    replace: [
      ["return nowMs < this.#body.expiresAtMs + this.deps.graceMs ? 'expired' : 'lapsed';", "return 'expired';"],
    ],
  },
]);
