/** Stands in for `@grpc/grpc-js` in the browser bundle: the generated modules build client classes with it, never used here. */
export function makeGenericClientConstructor(): unknown {
  return class {};
}
export class Metadata {}
export const status = {};
