import { launchEdited } from './patch-source.js';

/** Breaks protocol 3.2: a correlation id may hold any character (spaces, controls, bidirectional overrides), on Deliver and in SendNotice. */
await launchEdited('correlation-id-any-characters', [
  { file: 'envelope/envelope.js', replace: [['if (!VISIBLE_ASCII.test(value))', 'if (false)']] },
]);
