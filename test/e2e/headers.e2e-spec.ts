import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { gzipSync, gunzipSync } from 'node:zlib';
import type { RunningGateway } from '../../src/bootstrap';
import { startTestGateway } from '../support/gateway-fixture';
import { call } from '../support/http';
import { echoHandler, startUpstream, type EchoBody, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/routing.md "Proxying and headers" header rules through the real gateway: what the upstream receives and what the
 * client gets back, against real node:http upstreams.
 */

interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

interface SendOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | string;
}

/**
 * A node:http request that can carry any header (undici refuses Connection, Keep-Alive,
 * Upgrade...) and reads the response body raw, without decompressing it.
 */
function send(port: number, path: string, options: SendOptions = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The values of a header in a rawHeaders list, in order, however often it appears. */
function rawValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name) values.push(rawHeaders[i + 1]);
  return values;
}

function headerNames(rawHeaders: readonly string[]): string[] {
  return rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
}

/** Writes a raw HTTP/1.x request (header lines, no body) and resolves with everything answered until the server closes. */
function rawRequest(port: number, lines: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('end', () => resolve(received));
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

/** What the scripted upstream answers on one path. */
type Script = (req: IncomingMessage, res: ServerResponse) => void;

const HOP_BY_HOP_RESPONSE: Script = (_req, res) => {
  res.writeHead(200, [
    ['Content-Type', 'text/plain'],
    ['Connection', 'keep-alive, X-Upstream-Private, x-upstream-other'],
    ['X-Upstream-Private', 'secret'],
    ['X-Upstream-Other', 'also-secret'],
    ['Keep-Alive', 'timeout=77, max=999'],
    ['Proxy-Authenticate', 'Basic realm="upstream"'],
    ['Proxy-Custom', 'p'],
    ['TE', 'trailers'],
    ['Trailer', 'X-Checksum'],
    ['Upgrade', 'h2c'],
    ['X-End-To-End', 'kept'],
  ].flat());
  // Chunked: Node only allows a Trailer header on a chunked body.
  res.write('o');
  res.end('k');
};

const BINARY = randomBytes(64 * 1024 + 7);
const GZIPPED = gzipSync(Buffer.from('{"hello":"compressed world"}'.repeat(200)));

const SCRIPTS: Record<string, Script> = {
  '/hop-by-hop': HOP_BY_HOP_RESPONSE,
  '/chunked': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first,');
    res.write('second,');
    res.end('third');
  },
  '/created': (_req, res) => {
    res.writeHead(201, { location: '/things/42', 'content-type': 'application/json', 'x-custom': 'Mixed Case Value' });
    res.end('{"id":42}');
  },
  '/no-content': (_req, res) => {
    res.writeHead(204, { 'x-custom': 'empty' });
    res.end();
  },
  '/not-modified': (_req, res) => {
    res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=60' });
    res.end();
  },
  '/missing': (_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('upstream says: no such thing');
  },
  '/broken': (_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json', 'x-error-id': 'e-1' });
    res.end('{"upstream":"exploded"}');
  },
  '/unavailable': (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/html', 'retry-after': '120' });
    res.end('<h1>maintenance</h1>');
  },
  '/cookies': (_req, res) => {
    res.setHeader('set-cookie', ['session=abc; Path=/; HttpOnly', 'theme=dark; Max-Age=3600', 'lang=en-GB; SameSite=Lax']);
    res.setHeader('x-repeated', ['one', 'two']);
    res.setHeader('content-type', 'text/plain');
    res.end('cookies');
  },
  '/binary': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BINARY.length });
    res.end(BINARY);
  },
  '/redirect': (_req, res) => {
    res.writeHead(302, { location: '/redirect-target', 'content-type': 'text/plain' });
    res.end('moved');
  },
  '/redirect-abs': (_req, res) => {
    res.writeHead(301, { location: 'http://example.invalid/elsewhere' });
    res.end();
  },
  '/redirect-target': (_req, res) => {
    res.writeHead(200);
    res.end('followed');
  },
  '/gzip': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': GZIPPED.length, vary: 'accept-encoding' });
    res.end(GZIPPED);
  },
  '/head': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1234', 'x-method': req.method ?? '' });
    if (req.method === 'HEAD') res.end();
    else res.end('x'.repeat(1234));
  },
};

/** Runs the script for the path, or echoes the request. Reads every request body first. */
function scriptedHandler(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  const script = SCRIPTS[path];
  if (!script) {
    echoHandler(req, res);
    return;
  }
  req.resume();
  req.on('end', () => script(req, res));
}

describe('header rules (docs/routing.md "Proxying and headers")', () => {
  let upstream: UpstreamFixture;
  let hostUpstream: UpstreamFixture;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startUpstream(scriptedHandler);
    hostUpstream = await startUpstream();
    gateway = await startTestGateway({
      upstreams: {
        scripted: { targets: [upstream.url] },
        keepHost: { targets: [hostUpstream.url], preserveHost: true },
      },
      routes: [
        { id: 'preserve', path: '/preserve/*', upstream: 'keepHost' },
        { id: 'all', path: '/*', upstream: 'scripted' },
      ],
    });
  });

  afterAll(async () => {
    // Upstreams first: a request still waiting on one then ends, and the gateway can close.
    await upstream.close();
    await hostUpstream.close();
    await gateway.close();
  });

  /** Sends through the gateway to the echo and returns the request as the upstream recorded it. */
  async function upstreamRequest(path: string, options: SendOptions = {}): Promise<{ headers: IncomingHttpHeaders; rawHeaders: string[]; echo: EchoBody }> {
    const res = await send(gateway.port, path, options);
    expect(res.status).toBe(200);
    const echo = JSON.parse(res.body.toString('utf8')) as EchoBody;
    const recorded = upstream.requests.find((r) => r.url === echo.url);
    expect(recorded).toBeDefined();
    return { headers: recorded!.headers, rawHeaders: recorded!.rawHeaders, echo };
  }

  describe('hop-by-hop headers are not forwarded upstream', () => {
    it('drops Connection-listed headers, Keep-Alive, Proxy-*, TE, Trailer and Upgrade; keeps end-to-end headers', async () => {
      // Written raw: Node's client refuses a Trailer header on a request without a chunked body.
      const response = await rawRequest(
        gateway.port,
        [
          'GET /echo/hop-request HTTP/1.1',
          'Host: gw.test',
          'Connection: close, X-Client-Private, x-client-other',
          'X-Client-Private: secret',
          'X-Client-Other: also-secret',
          'Keep-Alive: timeout=99, max=5',
          'Proxy-Authorization: Basic dXNlcjpwYXNz',
          'Proxy-Connection: keep-alive',
          'Proxy-Custom: p',
          'TE: trailers',
          'Trailer: X-Checksum',
          'Upgrade: h2c',
          'X-End-To-End: kept',
          'Authorization: Bearer end-to-end',
        ],
      );
      expect(response).toMatch(/^HTTP\/1\.1 200 /);
      const recorded = upstream.requests.find((r) => r.url === '/echo/hop-request');
      expect(recorded).toBeDefined();
      const { headers, rawHeaders } = recorded!;
      const names = headerNames(rawHeaders);
      for (const name of ['x-client-private', 'x-client-other', 'keep-alive', 'te', 'trailer', 'upgrade']) {
        expect(names).not.toContain(name);
      }
      expect(names.filter((name) => name.startsWith('proxy-'))).toEqual([]);
      // The gateway's own connection to the upstream may say keep-alive, never the client's tokens.
      expect(rawValues(rawHeaders, 'connection').filter((value) => /x-client|close/i.test(value))).toEqual([]);
      expect(headers['x-end-to-end']).toBe('kept');
      expect(headers.authorization).toBe('Bearer end-to-end');
    });

    it('a header named by Connection is dropped even when it is otherwise end-to-end', async () => {
      const { headers } = await upstreamRequest('/echo/connection-lists-auth', {
        headers: { Connection: 'Authorization', Authorization: 'Bearer hop-only', 'X-Other': 'kept' },
      });
      expect(headers.authorization).toBeUndefined();
      expect(headers['x-other']).toBe('kept');
    });

    it("a chunked upload reaches the upstream intact without the client's Transfer-Encoding repeated", async () => {
      const payload = randomBytes(20_000);
      const res = await new Promise<Exchange>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: gateway.port, path: '/echo/chunked-upload', method: 'POST', agent: false, headers: { 'Transfer-Encoding': 'chunked' } },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, headers: response.headers, rawHeaders: response.rawHeaders, body: Buffer.concat(chunks) }),
            );
          },
        );
        req.on('error', reject);
        req.write(payload.subarray(0, 7000));
        req.write(payload.subarray(7000));
        req.end();
      });
      expect(res.status).toBe(200);
      const echo = JSON.parse(res.body.toString('utf8')) as EchoBody;
      expect(echo.bytes).toBe(payload.length);
      expect(echo.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
      const recorded = upstream.requests.find((r) => r.url === '/echo/chunked-upload')!;
      expect(rawValues(recorded.rawHeaders, 'transfer-encoding').length).toBeLessThanOrEqual(1);
    });
  });

  describe('hop-by-hop headers are not passed back to the client', () => {
    it('drops Connection-listed headers, Keep-Alive, Proxy-*, TE, Trailer and Upgrade of the upstream response', async () => {
      const res = await send(gateway.port, '/hop-by-hop');
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('ok');
      const names = headerNames(res.rawHeaders);
      for (const name of ['x-upstream-private', 'x-upstream-other', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-custom']) {
        expect(names).not.toContain(name);
      }
      // The gateway may announce its own keep-alive to the client, never the upstream's.
      expect(rawValues(res.rawHeaders, 'keep-alive').filter((value) => /77|999/.test(value))).toEqual([]);
      expect(rawValues(res.rawHeaders, 'connection').filter((value) => /x-upstream/i.test(value))).toEqual([]);
      expect(res.headers['x-end-to-end']).toBe('kept');
    });

    it("the upstream's Transfer-Encoding is not forwarded: an HTTP/1.0 client gets a plain body", async () => {
      const response = await rawRequest(gateway.port, ['GET /chunked HTTP/1.0', 'Host: gw.test']);
      const [head, body] = [response.slice(0, response.indexOf('\r\n\r\n')), response.slice(response.indexOf('\r\n\r\n') + 4)];
      expect(head).toMatch(/^HTTP\/1\.[01] 200 /);
      expect(head.toLowerCase()).not.toMatch(/\r\ntransfer-encoding:/);
      expect(body).toBe('first,second,third');
    });
  });

  describe('X-Forwarded-* with server.trustProxy false (the default)', () => {
    it('X-Forwarded-For is the client address alone: a spoofed chain is dropped', async () => {
      const { rawHeaders } = await upstreamRequest('/echo/xff-spoofed', { headers: { 'X-Forwarded-For': '203.0.113.9, 198.51.100.1' } });
      expect(rawValues(rawHeaders, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    });

    it('X-Forwarded-For is set when the client sent none', async () => {
      const { rawHeaders } = await upstreamRequest('/echo/xff-none');
      expect(rawValues(rawHeaders, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    });

    it('X-Forwarded-Proto and X-Forwarded-Host describe the request the gateway received, not spoofed values', async () => {
      const { rawHeaders } = await upstreamRequest('/echo/xfp', {
        headers: { Host: 'shop.example.com:8443', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example' },
      });
      expect(rawValues(rawHeaders, 'x-forwarded-proto')).toEqual(['http']);
      expect(rawValues(rawHeaders, 'x-forwarded-host')).toEqual(['shop.example.com:8443']);
    });
  });

  describe('Host', () => {
    it('preserveHost false (default): the upstream sees its own host:port, the client Host goes in X-Forwarded-Host', async () => {
      const { headers } = await upstreamRequest('/echo/host-default', { headers: { Host: 'api.example.com' } });
      expect(headers.host).toBe(`127.0.0.1:${upstream.port}`);
      expect(headers['x-forwarded-host']).toBe('api.example.com');
    });

    it("preserveHost true: the upstream sees the client's Host", async () => {
      const res = await send(gateway.port, '/preserve/x', { headers: { Host: 'api.example.com:9000' } });
      expect(res.status).toBe(200);
      const recorded = hostUpstream.requests.find((r) => r.url === '/preserve/x')!;
      expect(rawValues(recorded.rawHeaders, 'host')).toEqual(['api.example.com:9000']);
      expect(recorded.headers['x-forwarded-host']).toBe('api.example.com:9000');
    });
  });

  describe('the upstream response passes through unchanged', () => {
    it('201 with Location, custom headers and body', async () => {
      const res = await send(gateway.port, '/created', { method: 'POST', body: '{"name":"x"}', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(201);
      expect(res.headers.location).toBe('/things/42');
      expect(res.headers['x-custom']).toBe('Mixed Case Value');
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.body.toString()).toBe('{"id":42}');
    });

    it('204 without a body', async () => {
      const res = await send(gateway.port, '/no-content', { method: 'DELETE' });
      expect(res.status).toBe(204);
      expect(res.headers['x-custom']).toBe('empty');
      expect(res.body.length).toBe(0);
    });

    it('304 with its validators and no body', async () => {
      const res = await send(gateway.port, '/not-modified', { headers: { 'If-None-Match': '"v1"' } });
      expect(res.status).toBe(304);
      expect(res.headers.etag).toBe('"v1"');
      expect(res.headers['cache-control']).toBe('max-age=60');
      expect(res.body.length).toBe(0);
      const recorded = upstream.requests.find((r) => r.url === '/not-modified')!;
      expect(recorded.headers['if-none-match']).toBe('"v1"');
    });

    it.each([
      ['/missing', 404, 'text/plain; charset=utf-8', 'upstream says: no such thing'],
      ['/broken', 500, 'application/json', '{"upstream":"exploded"}'],
      ['/unavailable', 503, 'text/html', '<h1>maintenance</h1>'],
    ])('%s: an upstream %i is passed through as is, not turned into a gateway error', async (path, status, contentType, body) => {
      const res = await send(gateway.port, path);
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toBe(contentType);
      expect(res.body.toString()).toBe(body);
    });

    it('keeps the other headers of an upstream error response', async () => {
      expect((await send(gateway.port, '/broken')).headers['x-error-id']).toBe('e-1');
      expect((await send(gateway.port, '/unavailable')).headers['retry-after']).toBe('120');
    });

    it('every Set-Cookie header arrives separately, in order, unchanged; repeated headers keep every value', async () => {
      const res = await send(gateway.port, '/cookies');
      expect(res.status).toBe(200);
      expect(rawValues(res.rawHeaders, 'set-cookie')).toEqual(['session=abc; Path=/; HttpOnly', 'theme=dark; Max-Age=3600', 'lang=en-GB; SameSite=Lax']);
      expect(rawValues(res.rawHeaders, 'x-repeated').join(', ')).toBe('one, two');
    });

    it('a binary body arrives byte for byte with its Content-Length', async () => {
      const res = await send(gateway.port, '/binary');
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe(String(BINARY.length));
      expect(res.body.equals(BINARY)).toBe(true);
    });

    it('a chunked body arrives whole', async () => {
      const res = await send(gateway.port, '/chunked');
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('first,second,third');
    });

    it('the request method, body and end-to-end headers reach the upstream unchanged', async () => {
      const payload = randomBytes(3000);
      const { echo } = await upstreamRequest('/echo/post?x=1', {
        method: 'PATCH',
        body: payload,
        headers: { 'content-type': 'application/octet-stream', 'x-request-thing': 'v', accept: 'application/json' },
      });
      expect(echo.method).toBe('PATCH');
      expect(echo.url).toBe('/echo/post?x=1');
      expect(echo.bytes).toBe(payload.length);
      expect(echo.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
      expect(echo.headers['content-type']).toBe('application/octet-stream');
      expect(echo.headers['x-request-thing']).toBe('v');
      expect(echo.headers.accept).toBe('application/json');
    });
  });

  describe('HEAD', () => {
    it('is forwarded as HEAD and answered with the headers and no body', async () => {
      const res = await send(gateway.port, '/head', { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers['x-method']).toBe('HEAD');
      expect(res.headers['content-length']).toBe('1234');
      expect(res.body.length).toBe(0);
      // The connection is still usable afterwards: a GET through the gateway gets the full body.
      const get = await call(`${gateway.url}/head`);
      expect(get.status).toBe(200);
      expect(get.text).toBe('x'.repeat(1234));
    });
  });

  describe('redirects are not followed', () => {
    it('a 302 from the upstream reaches the client with its Location; the target is never requested', async () => {
      const res = await send(gateway.port, '/redirect');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/redirect-target');
      expect(res.body.toString()).toBe('moved');
      expect(upstream.requests.some((r) => r.url === '/redirect-target')).toBe(false);
    });

    it('a 301 to another origin is passed through as is', async () => {
      const res = await send(gateway.port, '/redirect-abs');
      expect(res.status).toBe(301);
      expect(res.headers.location).toBe('http://example.invalid/elsewhere');
    });
  });

  describe('no decompression', () => {
    it('a gzip body arrives byte-identical with Content-Encoding and Content-Length kept', async () => {
      const res = await send(gateway.port, '/gzip', { headers: { 'Accept-Encoding': 'gzip' } });
      expect(res.status).toBe(200);
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.headers['content-length']).toBe(String(GZIPPED.length));
      expect(res.headers.vary).toBe('accept-encoding');
      expect(res.body.equals(GZIPPED)).toBe(true);
      expect(gunzipSync(res.body).toString()).toContain('compressed world');
      const recorded = upstream.requests.find((r) => r.url === '/gzip')!;
      expect(recorded.headers['accept-encoding']).toBe('gzip');
    });

    it('the gzip body arrives compressed even when the client did not ask for gzip', async () => {
      const res = await send(gateway.port, '/gzip');
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.body.equals(GZIPPED)).toBe(true);
    });
  });
});

describe('X-Forwarded-* with server.trustProxy true', () => {
  let upstream: UpstreamFixture;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startUpstream();
    gateway = await startTestGateway({
      server: { trustProxy: true },
      upstreams: { echo: { targets: [upstream.url] } },
      routes: [{ id: 'all', path: '/*', upstream: 'echo' }],
    });
  });

  afterAll(async () => {
    await gateway.close();
    await upstream.close();
  });

  async function recorded(path: string, headers: OutgoingHttpHeaders): Promise<string[]> {
    const res = await send(gateway.port, path, { headers });
    expect(res.status).toBe(200);
    return upstream.requests.find((r) => r.url === path)!.rawHeaders;
  }

  it("appends the client address to the incoming X-Forwarded-For chain", async () => {
    const raw = await recorded('/chain', { 'X-Forwarded-For': '203.0.113.9, 198.51.100.1' });
    expect(rawValues(raw, 'x-forwarded-for')).toEqual(['203.0.113.9, 198.51.100.1, 127.0.0.1']);
  });

  it('sets the client address alone when there is no incoming chain', async () => {
    const raw = await recorded('/no-chain', {});
    expect(rawValues(raw, 'x-forwarded-for')).toEqual(['127.0.0.1']);
  });

  it('still sets X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const raw = await recorded('/proto', { Host: 'api.example.com' });
    expect(rawValues(raw, 'x-forwarded-proto')).toEqual(['http']);
    expect(rawValues(raw, 'x-forwarded-host')).toEqual(['api.example.com']);
  });
});
