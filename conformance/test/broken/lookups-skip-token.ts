import { launchEdited } from './patch-source.js';

/**
 * Breaks protocol 7.1: the Lookups service on the Authority port runs its calls without checking the
 * bearer token — neither the port's interceptor, which reads it from the metadata before the
 * request, nor the service itself asks for it.
 */
await launchEdited('lookups-skip-token', [
  {
    file: 'api/lookups-service.js',
    replace: [
      [
        "import { decodingTolerantly, guardedUnary } from './grpc-handlers.js';",
        "import { decodingTolerantly, unary } from './grpc-handlers.js';\nconst guardedUnary = (logger) => (handler) => unary(logger, async (request) => handler(request));",
      ],
    ],
  },
  {
    file: 'node.js',
    replace: [
      [
        "bearerInterceptor(token, (path) => path.startsWith('/tracenet.v1.'))",
        "bearerInterceptor(token, (path) => path.startsWith('/tracenet.v1.') && !path.startsWith('/tracenet.v1.Lookups/'))",
      ],
    ],
  },
]);
