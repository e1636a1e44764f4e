import { launchEdited } from './patch-source.js';

/** Breaks protocol 15.2: key messages signed with a previous key still in its grace are processed. */
await launchEdited('grace-key-signs-key-messages', [
  {
    file: 'keys/key-announcements.js',
    replace: [['if (message.senderKeyId !== undefined && message.senderKeyId !== peer.body.keyId) {', 'if (false) {']],
  },
]);
