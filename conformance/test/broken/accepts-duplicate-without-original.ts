import { launchEdited } from './patch-source.js';

/** Breaks protocol 5.4: a DUPLICATE receipt without the original ACCEPTED receipt is taken as proof of delivery. */
await launchEdited('accepts-duplicate-without-original', [
  {
    file: 'envelope/receipt.js',
    replace: [
      [
        "if (!receipt.original)\n            throw badReceipt('duplicate receipt without the original receipt');",
        'if (!receipt.original)\n            return { status: body.status, receipt, body, accepted: body };',
      ],
    ],
  },
]);
