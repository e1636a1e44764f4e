import { launchEdited } from './patch-source.js';

/**
 * Breaks protocol 13.4: a wildcard serial is matched with a backtracking regular expression (as the
 * node did before issue 14), which some patterns within the limit of 10 wildcards hold for seconds.
 */
await launchEdited('backtracking-wildcards', [
  {
    file: 'records/serial-pattern.js',
    replace: [
      [
        'test: (s) => wildcardMatch(chars, s)',
        "test: (s) => new RegExp(`^${chars.map((c) => (c === '?' ? '.' : c === '*' ? '.*' : c)).join('')}$`, 'u').test(s)",
      ],
    ],
  },
]);
