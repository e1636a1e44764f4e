import { launchEdited } from './patch-source.js';

/** Breaks protocol 7.1: the Lookups service on the Authority port runs its calls without checking the bearer token. */
await launchEdited('lookups-skip-token', [
  {
    file: 'api/lookups-service.js',
    replace: [["import { decodingTolerantly, guardedUnary } from './grpc-handlers.js';", "import { decodingTolerantly, unary } from './grpc-handlers.js';\nconst guardedUnary = (logger) => (handler) => unary(logger, async (request) => handler(request));"]],
  },
]);
