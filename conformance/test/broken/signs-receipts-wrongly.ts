import { generateKeyPairs, signReceipt } from '@tracenet/node';
import { ReceiptBody } from '@tracenet/proto';
import { main } from './launch.js';

/**
 * Breaks protocol 4.12: ACCEPTED and DUPLICATE receipts are signed with a key that is not the one
 * of the node's card, so they prove nothing to the sender.
 */
main('signs-receipts-wrongly', (node) => {
  const wrongKey = generateKeyPairs().signingSecretKey;
  const deliver = node.receiver.deliver.bind(node.receiver);
  node.receiver.deliver = async (raw: Uint8Array) => {
    const receipt = await deliver(raw);
    return { ...signReceipt(ReceiptBody.decode(receipt.body), wrongKey), original: receipt.original };
  };
});
