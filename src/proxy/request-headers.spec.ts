import type { IncomingHttpHeaders } from 'node:http';
import { clientResponseHeaders, upstreamRequestHeaders, type ForwardingContext } from './request-headers';

const CTX: ForwardingContext = { clientIp: '203.0.113.7', protocol: 'http', trustProxy: false, preserveHost: false };

function forward(incoming: IncomingHttpHeaders, ctx: Partial<ForwardingContext> = {}): Record<string, string | string[]> {
  return upstreamRequestHeaders(incoming, { ...CTX, ...ctx });
}

const HOP_BY_HOP: IncomingHttpHeaders = {
  connection: 'keep-alive',
  'keep-alive': 'timeout=5',
  'proxy-connection': 'keep-alive',
  'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
  'proxy-authenticate': 'Basic',
  'proxy-anything': 'x',
  te: 'trailers',
  trailer: 'x-checksum',
  'transfer-encoding': 'chunked',
  upgrade: 'h2c',
  'http2-settings': 'AAMAAABkAAQAAP__',
};

describe('upstreamRequestHeaders', () => {
  it('passes end-to-end headers through unchanged', () => {
    const out = forward({
      host: 'api.example.com',
      accept: 'application/json',
      authorization: 'Bearer abc',
      'content-type': 'application/json',
      'content-length': '42',
      cookie: 'a=1; b=2',
      'x-request-id': 'req-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(out).toMatchObject({
      accept: 'application/json',
      authorization: 'Bearer abc',
      'content-type': 'application/json',
      'content-length': '42',
      cookie: 'a=1; b=2',
      'x-request-id': 'req-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
  });

  it('does not modify the incoming headers', () => {
    const incoming: IncomingHttpHeaders = { host: 'h', connection: 'x-a', 'x-a': '1', 'x-forwarded-for': '1.1.1.1' };
    const copy = { ...incoming };
    forward(incoming, { trustProxy: true, preserveHost: true });
    expect(incoming).toEqual(copy);
  });

  describe('hop-by-hop headers', () => {
    it('drops the fixed list and every Proxy-* header', () => {
      const out = forward({ ...HOP_BY_HOP, accept: '*/*' });
      for (const name of Object.keys(HOP_BY_HOP)) expect(out).not.toHaveProperty([name]);
      expect(out.accept).toBe('*/*');
    });

    it('drops every header named in Connection, whatever the case and spacing', () => {
      const out = forward({ connection: 'close, X-Internal-Auth ,x-debug,,  X-Trace-Hop ', 'x-internal-auth': 's', 'x-debug': '1', 'x-trace-hop': 'h', 'x-kept': 'k' });
      expect(out).not.toHaveProperty(['x-internal-auth']);
      expect(out).not.toHaveProperty(['x-debug']);
      expect(out).not.toHaveProperty(['x-trace-hop']);
      expect(out).not.toHaveProperty(['connection']);
      expect(out['x-kept']).toBe('k');
    });

    it('drops headers named by a Connection header given as a list', () => {
      const incoming: IncomingHttpHeaders = { 'x-a': '1', 'x-b': '2', 'x-c': '3' };
      (incoming as Record<string, string | string[]>).connection = ['x-a', 'X-B'];
      const out = forward(incoming);
      expect(out).not.toHaveProperty(['x-a']);
      expect(out).not.toHaveProperty(['x-b']);
      expect(out['x-c']).toBe('3');
    });

    it('drops Expect (the gateway already answered 100-continue)', () => {
      expect(forward({ expect: '100-continue', 'content-length': '5' })).not.toHaveProperty(['expect']);
    });

    it('does not drop headers that only resemble hop-by-hop ones', () => {
      const out = forward({ 'x-proxy-id': 'a', 'tex': 'b', 'x-upgrade': 'c', 'keep-alive-ish': 'd' });
      expect(out).toMatchObject({ 'x-proxy-id': 'a', tex: 'b', 'x-upgrade': 'c', 'keep-alive-ish': 'd' });
    });
  });

  describe('X-Forwarded-For', () => {
    it('is the client address alone when trustProxy is false', () => {
      expect(forward({})['x-forwarded-for']).toBe('203.0.113.7');
    });

    it('drops a spoofed chain when trustProxy is false', () => {
      expect(forward({ 'x-forwarded-for': '10.0.0.1, 198.51.100.1' })['x-forwarded-for']).toBe('203.0.113.7');
    });

    it('appends the client address to the incoming chain when trustProxy is true', () => {
      expect(forward({ 'x-forwarded-for': '10.0.0.1, 198.51.100.1' }, { trustProxy: true })['x-forwarded-for']).toBe(
        '10.0.0.1, 198.51.100.1, 203.0.113.7',
      );
    });

    it('appends to every line of a repeated header when trustProxy is true', () => {
      const incoming: IncomingHttpHeaders = {};
      (incoming as Record<string, string | string[]>)['x-forwarded-for'] = ['10.0.0.1', '10.0.0.2'];
      expect(forward(incoming, { trustProxy: true })['x-forwarded-for']).toBe('10.0.0.1, 10.0.0.2, 203.0.113.7');
    });

    it('is the client address alone when trustProxy is true and there is no chain', () => {
      expect(forward({}, { trustProxy: true })['x-forwarded-for']).toBe('203.0.113.7');
    });

    it('keeps an IPv6 client address as is', () => {
      expect(forward({}, { clientIp: '2001:db8::1' })['x-forwarded-for']).toBe('2001:db8::1');
    });
  });

  describe('X-Forwarded-Proto', () => {
    it('is the protocol the client used', () => {
      expect(forward({})['x-forwarded-proto']).toBe('http');
      expect(forward({}, { protocol: 'https' })['x-forwarded-proto']).toBe('https');
    });

    it('ignores a client-sent value when trustProxy is false', () => {
      expect(forward({ 'x-forwarded-proto': 'https' })['x-forwarded-proto']).toBe('http');
    });

    it('keeps the value of a trusted proxy', () => {
      expect(forward({ 'x-forwarded-proto': 'https' }, { trustProxy: true })['x-forwarded-proto']).toBe('https');
    });
  });

  describe('X-Forwarded-Host', () => {
    it('is the Host the client sent', () => {
      expect(forward({ host: 'api.example.com:8443' })['x-forwarded-host']).toBe('api.example.com:8443');
    });

    it('ignores a client-sent value when trustProxy is false', () => {
      expect(forward({ host: 'api.example.com', 'x-forwarded-host': 'evil.example.net' })['x-forwarded-host']).toBe('api.example.com');
    });

    it('is not passed through from the client when there is no Host and trustProxy is false', () => {
      expect(forward({ 'x-forwarded-host': 'evil.example.net' })).not.toHaveProperty(['x-forwarded-host']);
    });

    it('keeps the value of a trusted proxy', () => {
      expect(forward({ host: 'internal:8080', 'x-forwarded-host': 'api.example.com' }, { trustProxy: true })['x-forwarded-host']).toBe(
        'api.example.com',
      );
    });
  });

  describe('Host', () => {
    it('is left out so the client sets the target’s', () => {
      expect(forward({ host: 'api.example.com' })).not.toHaveProperty(['host']);
    });

    it('is kept with preserveHost', () => {
      expect(forward({ host: 'api.example.com' }, { preserveHost: true }).host).toBe('api.example.com');
    });

    it('is absent with preserveHost when the client sent none', () => {
      expect(forward({}, { preserveHost: true })).not.toHaveProperty(['host']);
    });
  });

  it('produces exactly the expected header set for a typical request', () => {
    expect(
      forward(
        {
          host: 'api.example.com',
          connection: 'keep-alive, x-hop',
          'x-hop': '1',
          'keep-alive': 'timeout=5',
          accept: '*/*',
          expect: '100-continue',
          'x-forwarded-for': '10.9.9.9',
        },
        { protocol: 'https' },
      ),
    ).toEqual({
      accept: '*/*',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'api.example.com',
    });
  });
});

describe('clientResponseHeaders', () => {
  it('passes end-to-end headers through unchanged', () => {
    const upstream: IncomingHttpHeaders = {
      'content-type': 'text/html; charset=utf-8',
      'content-length': '1234',
      'cache-control': 'no-store',
      etag: '"abc"',
      location: '/elsewhere',
      'x-powered-by': 'upstream',
      date: 'Tue, 01 Jul 2025 00:00:00 GMT',
    };
    expect(clientResponseHeaders(upstream)).toEqual(upstream);
  });

  it('keeps set-cookie as an array of separate cookies', () => {
    const upstream: IncomingHttpHeaders = { 'set-cookie': ['a=1; Path=/; HttpOnly', 'b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT'] };
    expect(clientResponseHeaders(upstream)['set-cookie']).toEqual(['a=1; Path=/; HttpOnly', 'b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT']);
  });

  it('drops hop-by-hop headers, Proxy-* and those named in Connection', () => {
    const out = clientResponseHeaders({
      ...HOP_BY_HOP,
      connection: 'keep-alive, X-Upstream-Hop',
      'x-upstream-hop': 'secret',
      'content-type': 'application/json',
    });
    expect(out).toEqual({ 'content-type': 'application/json' });
  });

  it('skips undefined values', () => {
    const upstream: IncomingHttpHeaders = { 'content-type': 'text/plain', etag: undefined };
    expect(clientResponseHeaders(upstream)).toEqual({ 'content-type': 'text/plain' });
  });
});
