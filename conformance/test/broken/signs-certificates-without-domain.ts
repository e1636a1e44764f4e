import { launchEdited } from './patch-source.js';

/**
 * Breaks protocol 19.3: destruction certificates are signed over the body alone, without the
 * domain label D("tracenet.v1/destruction-certificate").
 */
await launchEdited('signs-certificates-without-domain', [
  {
    file: 'records/destruction.js',
    replace: [
      [
        'crypto_sign_detached(Buffer.concat([CERTIFICATE_DOMAIN, bytes]), signingSecretKey)',
        'crypto_sign_detached(bytes, signingSecretKey)',
      ],
    ],
  },
]);
