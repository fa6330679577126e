import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RateLimitKey } from '../config/gateway-config.types';

/** Longer trackers (header values) are hashed, so a key's size in the store is bounded. */
const MAX_TRACKER_LENGTH = 64;

/**
 * Whose budget a request counts against (docs/configuration.md "Config file reference" `rateLimit.key`):
 * - `ip`: the client's address; with `trustProxy`, the last address of the incoming
 *   X-Forwarded-For chain, which the trusted proxy in front appended (the ones before it are
 *   whatever the client claimed);
 * - `header:<name>`: that header's value, the client's address when it is missing;
 * - `route`: one budget for everyone on the route;
 * - `consumer`: the consumer id a plugin set, the client's address when none did.
 * Kinds are prefixed so a header value can never share a bucket with an address.
 */
export function rateLimitTracker(key: RateLimitKey, req: IncomingMessage, trustProxy: boolean, consumerId: string | null): string {
  if (key === 'route') return 'route';
  if (key === 'consumer') return consumerId !== null ? bounded('consumer:', consumerId) : `ip:${clientAddress(req, trustProxy)}`;
  if (key !== 'ip') {
    const value = req.headers[key.slice(7)];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== '') return bounded('header:', first);
  }
  return `ip:${clientAddress(req, trustProxy)}`;
}

export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const chain = req.headers['x-forwarded-for'];
    const joined = Array.isArray(chain) ? chain.join(',') : chain;
    if (joined) {
      const last = joined.slice(joined.lastIndexOf(',') + 1).trim();
      if (last !== '') return last.length > MAX_TRACKER_LENGTH ? hash(last) : last;
    }
  }
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function bounded(prefix: string, value: string): string {
  return prefix + (value.length > MAX_TRACKER_LENGTH ? hash(value) : value);
}

function hash(value: string): string {
  return `#${createHash('sha256').update(value).digest('base64url')}`;
}
