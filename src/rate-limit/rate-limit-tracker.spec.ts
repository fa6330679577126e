import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { rateLimitTracker } from './rate-limit-tracker';

/** A request as Node's server makes it, from a client at `address`, with `headers`. */
function request(address: string, headers: Record<string, string | string[]> = {}): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: address });
  const req = new IncomingMessage(socket);
  req.headers = headers;
  return req;
}

describe('rateLimitTracker', () => {
  it('ip: the client address, an IPv4-mapped IPv6 one as IPv4', () => {
    expect(rateLimitTracker('ip', request('10.1.2.3'), false, null)).toBe('ip:10.1.2.3');
    expect(rateLimitTracker('ip', request('::ffff:10.1.2.3'), false, null)).toBe('ip:10.1.2.3');
    expect(rateLimitTracker('ip', request('2001:db8::1'), false, null)).toBe('ip:2001:db8::1');
  });

  it('ip ignores X-Forwarded-For without trustProxy: a client cannot pick its own bucket', () => {
    expect(rateLimitTracker('ip', request('10.1.2.3', { 'x-forwarded-for': '1.1.1.1' }), false, null)).toBe('ip:10.1.2.3');
  });

  it('ip with trustProxy: the address the trusted proxy appended last, not what the client claimed before it', () => {
    const req = request('10.0.0.9', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' });
    expect(rateLimitTracker('ip', req, true, null)).toBe('ip:203.0.113.7');
    expect(rateLimitTracker('ip', request('10.0.0.9', { 'x-forwarded-for': ['6.6.6.6', '203.0.113.8'] }), true, null)).toBe('ip:203.0.113.8');
    expect(rateLimitTracker('ip', request('10.0.0.9'), true, null)).toBe('ip:10.0.0.9');
  });

  it('header:<name>: the value, falling back to the address when the header is missing or empty', () => {
    expect(rateLimitTracker('header:x-api-client', request('10.1.2.3', { 'x-api-client': 'team-a' }), false, null)).toBe('header:team-a');
    expect(rateLimitTracker('header:x-api-client', request('10.1.2.3'), false, null)).toBe('ip:10.1.2.3');
    expect(rateLimitTracker('header:x-api-client', request('10.1.2.3', { 'x-api-client': '' }), false, null)).toBe('ip:10.1.2.3');
  });

  it('a header value that looks like an address never shares the address bucket', () => {
    expect(rateLimitTracker('header:x-api-client', request('10.1.2.3', { 'x-api-client': '10.1.2.3' }), false, null)).not.toBe(
      rateLimitTracker('ip', request('10.1.2.3'), false, null),
    );
  });

  it('a long header value is hashed, so keys stay small whatever a client sends', () => {
    const tracker = rateLimitTracker('header:x-api-client', request('10.1.2.3', { 'x-api-client': 'x'.repeat(10_000) }), false, null);
    expect(tracker.length).toBeLessThan(80);
    expect(tracker).toBe(rateLimitTracker('header:x-api-client', request('10.9.9.9', { 'x-api-client': 'x'.repeat(10_000) }), false, null));
  });

  it('route: one bucket for everyone', () => {
    expect(rateLimitTracker('route', request('10.1.2.3'), false, null)).toBe(rateLimitTracker('route', request('10.4.5.6'), false, null));
  });

  it('consumer: the id a plugin set, else the address', () => {
    expect(rateLimitTracker('consumer', request('10.1.2.3'), false, 'orders-team')).toBe('consumer:orders-team');
    expect(rateLimitTracker('consumer', request('10.1.2.3'), false, null)).toBe('ip:10.1.2.3');
  });
});
