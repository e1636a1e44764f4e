import { launchEdited } from './patch-source.js';

/** Breaks protocol 15.3: key ids a peer revoked are not refused (its envelopes, its card). */
await launchEdited('forgets-revocations', [
  {
    file: 'federation/peers.js',
    replace: [
      [
        'return peer.revokedKeyIds.includes(keyId) || (this.deps.roster?.isRevoked(peer.participantId, keyId) ?? false);',
        'return this.deps.roster?.isRevoked(peer.participantId, keyId) ?? false;',
      ],
      ['if (revokedKeyIds.includes(body.keyId)) {', 'if (false) {'],
    ],
  },
]);
