import type { IncomingMessage } from 'node:http';

/** The client's address as the upstream and plugins hear it: an IPv4-mapped IPv6 address as plain IPv4. */
export function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
