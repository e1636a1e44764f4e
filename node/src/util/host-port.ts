/**
 * "host:port" as the configuration writes addresses (`127.0.0.1:7443`, `[::1]:7443`): the host
 * without brackets and the port. The text is assumed checked by the configuration's rule.
 */
export function hostAndPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

/** `address` with its port replaced: the address a port bound with port 0 actually has. */
export function withPort(address: string, port: number): string {
  return `${address.slice(0, address.lastIndexOf(':'))}:${port}`;
}
