import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RunningGateway } from '../../src/bootstrap';
import { CLOSE_LINGER_MS } from '../../src/gateway-server';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { call, parseRawResponse, type ParsedResponse } from '../support/http';
import { eventually, samplesOf } from '../support/metrics-text';
import { testResources } from '../support/test-resources';
import type { EchoBody, UpstreamFixture } from '../support/upstream-fixture';
import { holdingUpstream } from '../support/holding-upstream';

/*
 * docs/routing.md "Proxying and headers" › "Hostile input": what clients send to break or abuse a gateway,
 * over raw sockets against the real gateway and real upstreams. Every answer the gateway gives
 * at the socket level is the JSON error of docs/errors.md with `Connection: close`, no such request (nor one
 * pipelined behind it) ever reaches an upstream, and the gateway serves the next request.
 */

const HEADERS_TIMEOUT_MS = 500;
const BODY_IDLE_MS = 500;
/** Margin for a loaded 2-core machine: Node checks headersTimeout every 250 ms here, timers run late. */
const SLACK_MS = 1_500;
const UPLOAD_BYTES = 48 * 1024 * 1024;

const resources = testResources();

/** A raw connection: what the gateway sends until it closes, and when it closed. */
interface RawConnection {
  socket: Socket;
  /** Everything received (latin1) once the connection has closed. */
  response: Promise<string>;
  /** performance.now() when the connection closed. */
  closedAt: Promise<number>;
  /** performance.now() when the gateway ended its side (FIN). */
  endedAt: Promise<number>;
}

function openRaw(port: number, options: { allowHalfOpen?: boolean } = {}): RawConnection {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (received += chunk));
  // A reset is a close too: the assertions on `response` say what was received before it.
  socket.on('error', () => undefined);
  const closedAt = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  const endedAt = new Promise<number>((resolve) => socket.once('end', () => resolve(performance.now())));
  return { socket, response: closedAt.then(() => received), closedAt, endedAt };
}

/** Writes `payload` (latin1: byte for byte) and resolves with everything received until the gateway closes. */
function exchange(port: number, payload: string): Promise<string> {
  const connection = openRaw(port);
  connection.socket.write(Buffer.from(payload, 'latin1'));
  return connection.response;
}

/** The JSON error of docs/errors.md, with `Connection: close`, and the only response on the connection. */
function expectClosingError(raw: string, status: number, code: string, route: string | null = null): ParsedResponse {
  expect(raw.match(/HTTP\/1\.[01] \d{3} /g)).toHaveLength(1);
  const res = parseRawResponse(raw);
  expectGatewayError(res, status, code, route);
  expect(res.headers.connection).toBe('close');
  return res;
}

/** A whole response from the echo upstream (relayed chunked): its status and what the upstream saw. */
function echoed(raw: string): { status: number; echo: EchoBody } {
  const res = parseRawResponse(raw);
  let text = res.text;
  if (res.headers['transfer-encoding'] === 'chunked') {
    text = '';
    for (let at = raw.indexOf('\r\n\r\n') + 4; ; ) {
      const lineEnd = raw.indexOf('\r\n', at);
      const size = parseInt(raw.slice(at, lineEnd), 16);
      if (!(size > 0)) break;
      text += raw.slice(lineEnd + 2, lineEnd + 2 + size);
      at = lineEnd + 2 + size + 2;
    }
  }
  expect({ status: res.status, text }).toMatchObject({ status: 200 });
  return { status: res.status, echo: JSON.parse(text) as EchoBody };
}

/** `data` (ASCII) as one chunk of a chunked body. */
function chunk(data: string): string {
  return `${data.length.toString(16)}\r\n${data}\r\n`;
}

/** One request that reached the holding upstream, and what became of it. */
describe('hostile input (docs/routing.md "Proxying and headers" › "Hostile input")', () => {
  let echo: UpstreamFixture;
  let holding: ReturnType<typeof holdingUpstream>;
  let early: ReturnType<typeof holdingUpstream>;
  let gateway: RunningGateway;
  /** URLs of the requests the echo upstream read to the end. */
  const completedAtEcho: string[] = [];

  beforeAll(async () => {
    echo = await resources.upstream();
    echo.server.prependListener('request', (req: IncomingMessage) => req.once('end', () => completedAtEcho.push(req.url ?? '')));
    holding = holdingUpstream();
    const holdingServer = await resources.upstream(holding.handler);
    // Answers at once (headers and a first piece of body) while the request body is still arriving.
    early = holdingUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('started');
    });
    const earlyServer = await resources.upstream(early.handler);
    // Answers in full at once, without reading the request body.
    const answered = await resources.upstream((_req, res) => res.end('done'));
    // Leaves the request body unread for three idle periods, then reads it and answers with its size.
    const slowReader = await resources.upstream((req, res) => {
      req.pause();
      setTimeout(() => {
        let bytes = 0;
        req.on('data', (data: Buffer) => (bytes += data.length));
        req.on('end', () => res.end(String(bytes)));
        req.resume();
      }, 3 * BODY_IDLE_MS);
    });
    const bulkhead = { limit: 4 };
    gateway = await resources.gatewayWith({
      server: { headersTimeoutMs: HEADERS_TIMEOUT_MS, bodyIdleTimeoutMs: BODY_IDLE_MS, bodyLimitBytes: UPLOAD_BYTES },
      upstreams: {
        echo: { targets: [echo.url] },
        holding: { targets: [holdingServer.url], concurrency: bulkhead },
        early: { targets: [earlyServer.url] },
        slowReader: { targets: [slowReader.url] },
        answered: { targets: [answered.url] },
      },
      routes: [
        { id: 'echo', path: '/echo/*', upstream: 'echo' },
        { id: 'hold', path: '/hold/*', upstream: 'holding', concurrency: bulkhead, timeoutMs: 60_000 },
        { id: 'early', path: '/early/*', upstream: 'early', timeoutMs: 60_000 },
        { id: 'slow-reader', path: '/slow-reader/*', upstream: 'slowReader', timeoutMs: 60_000 },
        { id: 'answered', path: '/answered/*', upstream: 'answered' },
      ],
    });
  });

  // Whatever a test threw at it, the gateway serves the next client.
  afterEach(async () => {
    const res = await call(`${gateway.url}/echo/still-serving`);
    expect(res.status).toBe(200);
    expect(res.json<EchoBody>().url).toBe('/echo/still-serving');
  });

  function echoSaw(fragment: string): boolean {
    return echo.requests.some((r) => r.url.includes(fragment));
  }

  describe('slow request heads: 408 request_timeout after server.headersTimeoutMs', () => {
    it('a partial head (slow-loris) gets 408 within headersTimeoutMs + 1.5 s, and the connection is closed', async () => {
      const connection = openRaw(gateway.port);
      const sentAt = performance.now();
      connection.socket.write('GET /echo/slow-loris HTTP/1.1\r\nHost: gw\r\nX-Padding: ');
      const raw = await connection.response;
      const elapsed = (await connection.closedAt) - sentAt;
      console.log(`hostile-input: a partial head was answered 408 and closed after ${elapsed.toFixed(0)} ms`);
      expectClosingError(raw, 408, 'request_timeout');
      expect(elapsed).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 20);
      expect(elapsed).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
      expect(echoSaw('slow-loris')).toBe(false);
    });

    it('a head dripped a byte at a time does not move the deadline', async () => {
      const connection = openRaw(gateway.port);
      const head = Buffer.from(`GET /echo/drip-${'x'.repeat(200)} HTTP/1.1\r\nHost: gw\r\n\r\n`);
      let sent = 0;
      const sentAt = performance.now();
      const drip = setInterval(() => {
        if (sent < head.length && !connection.socket.destroyed) connection.socket.write(head.subarray(sent, ++sent));
      }, 20);
      try {
        const raw = await connection.response;
        expect(sent).toBeLessThan(head.length);
        expectClosingError(raw, 408, 'request_timeout');
        expect((await connection.closedAt) - sentAt).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
      } finally {
        clearInterval(drip);
      }
      expect(echoSaw('drip')).toBe(false);
    });

    it('a connection that sends nothing gets the same 408', async () => {
      const connection = openRaw(gateway.port);
      const openedAt = performance.now();
      expectClosingError(await connection.response, 408, 'request_timeout');
      expect((await connection.closedAt) - openedAt).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
    });

    it('a client that never closes its side is disconnected CLOSE_LINGER_MS after the answer', async () => {
      const connection = openRaw(gateway.port, { allowHalfOpen: true });
      connection.socket.write('GET /echo/never-closes HTTP/1.1\r\nHost: gw\r\n');
      const endedAt = await connection.endedAt;
      // It keeps sending after the answer: a byte every 50 ms, read and dropped until the gateway
      // destroys the connection, after which the next one is reset, which is how a client learns of it.
      const keepSending = setInterval(() => connection.socket.write('x'), 50);
      try {
        const closedAt = await connection.closedAt;
        expectClosingError(await connection.response, 408, 'request_timeout');
        expect(closedAt - endedAt).toBeGreaterThanOrEqual(CLOSE_LINGER_MS - 100);
        expect(closedAt - endedAt).toBeLessThan(CLOSE_LINGER_MS + SLACK_MS);
      } finally {
        clearInterval(keepSending);
      }
      expect(echoSaw('never-closes')).toBe(false);
    });
  });

  describe('request head size: 431 headers_too_large over server.maxHeaderBytes (16384) or 100 header lines', () => {
    it('a 10,000-character header value is accepted and forwarded intact', async () => {
      const value = randomBytes(5_000).toString('hex');
      const raw = await exchange(gateway.port, `GET /echo/long-value HTTP/1.1\r\nHost: gw\r\nX-Long: ${value}\r\nConnection: close\r\n\r\n`);
      expect(echoed(raw).echo.headers['x-long']).toBe(value);
    });

    it('a head over maxHeaderBytes gets 431 and never reaches the upstream', async () => {
      const raw = await exchange(gateway.port, `GET /echo/too-long HTTP/1.1\r\nHost: gw\r\nX-Long: ${'a'.repeat(20_000)}\r\n\r\n`);
      expectClosingError(raw, 431, 'headers_too_large');
      expect(echoSaw('too-long')).toBe(false);
    });

    it('100 header lines are accepted, every one forwarded', async () => {
      const lines = Array.from({ length: 97 }, (_, i) => `X-Line-${i}: ${i}\r\n`).join('');
      const raw = await exchange(gateway.port, `GET /echo/lines-100 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nAccept: */*\r\n${lines}\r\n`);
      const forwarded = Object.keys(echoed(raw).echo.headers).filter((name) => name.startsWith('x-line-'));
      expect(forwarded).toHaveLength(97);
    });

    it.each([101, 150, 3_000])('%d header lines get 431 and never reach the upstream', async (count) => {
      const lines = Array.from({ length: count - 1 }, (_, i) => `X-${i}: 1\r\n`).join('');
      const raw = await exchange(gateway.port, `GET /echo/lines-${count} HTTP/1.1\r\nHost: gw\r\n${lines}\r\n`);
      expectClosingError(raw, 431, 'headers_too_large');
      expect(echoSaw(`lines-${count}`)).toBe(false);
    });
  });

  describe('request smuggling: ambiguous body framing gets 400 bad_request, and nothing of it reaches the upstream', () => {
    // [what, request, route]: a head Node or the gateway refuses has no route; a bad chunk is found
    // once the request is routed and being forwarded, so its 400 names the route.
    it.each([
      ['Transfer-Encoding: chunked, then Content-Length', 'POST /echo/te-cl HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', null],
      ['Content-Length, then Transfer-Encoding: chunked', 'POST /echo/cl-te HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', null],
      ['two Content-Length headers with the same value', 'POST /echo/cl-cl-same HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', null],
      ['two Content-Length headers with different values', 'POST /echo/cl-cl-diff HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nhello', null],
      ['a Content-Length list', 'POST /echo/cl-list HTTP/1.1\r\nHost: gw\r\nContent-Length: 5, 5\r\n\r\nhello', null],
      ['Transfer-Encoding: gzip, chunked', 'POST /echo/te-gzip HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', null],
      ['Transfer-Encoding on two lines', 'POST /echo/te-lines HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', null],
      ['Transfer-Encoding: chunked twice', 'POST /echo/te-twice HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', null],
      ['Transfer-Encoding: identity', 'POST /echo/te-identity HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: identity\r\n\r\n', null],
      ['Transfer-Encoding in an HTTP/1.0 request', 'POST /echo/te-http10 HTTP/1.0\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', null],
      ['whitespace before the colon', 'POST /echo/te-space HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n', null],
      ['a folded Transfer-Encoding line', 'POST /echo/te-fold HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n', null],
      ['a bad chunk size', 'POST /echo/bad-chunk HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 'echo'],
      ['a chunk without its CRLF', 'POST /echo/chunk-crlf HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n', 'echo'],
    ])('%s', async (_name, payload, route) => {
      const marker = /\/echo\/([a-z0-9-]+)/.exec(payload)![1];
      // What follows the request where the gateway thinks it ends must never be served either.
      const raw = await exchange(gateway.port, `${payload}GET /echo/smuggled-${marker} HTTP/1.1\r\nHost: gw\r\n\r\n`);
      expectClosingError(raw, 400, 'bad_request', route);
      // The upstream never read this request to its end (after a bad chunk it may have seen the head), nor saw the one behind it.
      expect(completedAtEcho.filter((url) => url.includes(marker))).toEqual([]);
      expect(echoSaw(`smuggled-${marker}`)).toBe(false);
    });

    it('a request pipelined behind a refused one is never served', async () => {
      const raw = await exchange(gateway.port, `GET http://other.example/ HTTP/1.1\r\nHost: other.example\r\n\r\nGET /echo/behind-refused HTTP/1.1\r\nHost: gw\r\n\r\n`);
      expectClosingError(raw, 400, 'bad_request');
      expect(echoSaw('behind-refused')).toBe(false);
    });

    it('a bad chunk in a body already streaming upstream: 400 for the route, and the upstream request is abandoned', async () => {
      const connection = openRaw(gateway.port);
      connection.socket.write(`POST /hold/bad-chunk-streaming HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n${chunk('a'.repeat(100))}`);
      const arrival = await holding.next();
      expect(arrival.req.url).toBe('/hold/bad-chunk-streaming');
      await arrival.received(100);
      connection.socket.write('not-hex\r\nhello\r\n0\r\n\r\n');
      expectClosingError(await connection.response, 400, 'bad_request', 'hold');
      expect(await arrival.closed).toEqual({ responseFinished: false, requestComplete: false });
    });
  });

  describe('paths: control characters, invalid UTF-8, traversal', () => {
    it.each([
      ['a NUL byte', 'raw-nul\x00byte'],
      ['a control character', 'raw-ctl\x01byte'],
      ['a DEL', 'raw-del\x7fbyte'],
      ['bytes that are not UTF-8', 'raw-bytes\xff\xfe'],
      ['UTF-8 not %-escaped', `raw-utf8-${Buffer.from('caf\u00e9').toString('latin1')}`],
    ])('%s in the path: Node refuses the head, the answer is the JSON error of docs/errors.md', async (_name, segment) => {
      expectClosingError(await exchange(gateway.port, `GET /echo/${segment} HTTP/1.1\r\nHost: gw\r\n\r\n`), 400, 'bad_request');
      expect(echoSaw(segment.slice(0, 7))).toBe(false);
    });

    it.each([
      ['an escaped NUL', '/echo/esc-1/a%00b', true],
      ['an escaped CR LF', '/echo/esc-2/a%0d%0aSet-Cookie:%20x=1', true],
      ['an escaped DEL', '/echo/esc-3/a%7Fb', true],
      ['escaped bytes that are not UTF-8', '/echo/esc-4/a%ff%fe', false],
      ['an overlong UTF-8 dot', '/echo/esc-5/%c0%ae%c0%ae/admin', false],
      ['an encoded slash', '/echo/esc-6/..%2Fadmin', false],
      ['encoded dots and slash', '/echo/esc-7/%2e%2e%2fadmin', false],
    ])('%s in the path: 400 bad_request, never forwarded', async (_name, target, closes) => {
      const raw = await exchange(gateway.port, `GET ${target} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`);
      // Escaped control characters are refused with the other hostile heads (the connection closes);
      // the rest by routing, like any 400 there.
      if (closes) expectClosingError(raw, 400, 'bad_request');
      else expectGatewayError(parseRawResponse(raw), 400, 'bad_request', null);
      expect(echoSaw(target.slice(0, 11))).toBe(false);
    });

    it('%2e%2e segments are resolved before routing: /echo/%2e%2e/admin is /admin, which no route serves', async () => {
      const res = parseRawResponse(await exchange(gateway.port, 'GET /echo/%2e%2e/admin HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'));
      expectGatewayError(res, 404, 'no_route', null);
      expect(echoSaw('admin')).toBe(false);
    });

    it('an escaped control character in the query string is passed on as it is', async () => {
      const raw = await exchange(gateway.port, 'GET /echo/query?q=%00%0A HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
      expect(echoed(raw).echo.url).toBe('/echo/query?q=%00%0A');
    });
  });

  describe('what a client claims about itself', () => {
    it('a spoofed X-Forwarded-For (and X-Real-IP, Forwarded) is replaced with the client address when trustProxy is false', async () => {
      const spoofed = 'X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\nX-Real-IP: 10.0.0.1\r\nForwarded: for=10.0.0.1\r\nX-Forwarded-Host: admin.internal\r\n';
      const { headers } = echoed(await exchange(gateway.port, `GET /echo/spoofed HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n${spoofed}\r\n`)).echo;
      expect(headers).toMatchObject({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': 'gw' });
      expect(headers['x-real-ip']).toBeUndefined();
      expect(headers.forwarded).toBeUndefined();
    });
  });

  describe('X-Request-Id injection: an id that is not 1-128 of [A-Za-z0-9._-] is replaced by a generated one', () => {
    const GENERATED = /^[0-9a-f]{32}$/;

    async function idsFor(idLines: string): Promise<{ response: string | undefined; upstream: unknown }> {
      const raw = await exchange(gateway.port, `GET /echo/request-id HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n${idLines}\r\n`);
      return { response: parseRawResponse(raw).headers['x-request-id'] as string | undefined, upstream: echoed(raw).echo.headers['x-request-id'] };
    }

    it.each([
      ['129 characters', `X-Request-Id: ${'a'.repeat(129)}\r\n`],
      ['10 KB', `X-Request-Id: ${'b'.repeat(10_240)}\r\n`],
      ['markup', 'X-Request-Id: <script>alert(1)</script>\r\n'],
      ['a space and a semicolon', 'X-Request-Id: abc def;x=1\r\n'],
      ['a log-forging newline escape', 'X-Request-Id: abc\\r\\nlevel=error\r\n'],
      ['non-ASCII bytes', 'X-Request-Id: caf\u00e9\r\n'],
      ['an empty value', 'X-Request-Id: \r\n'],
      ['two ids', 'X-Request-Id: one\r\nX-Request-Id: two\r\n'],
    ])('%s', async (_name, idLines) => {
      const ids = await idsFor(idLines);
      expect(ids.response).toMatch(GENERATED);
      expect(ids.upstream).toBe(ids.response);
    });

    it('a valid id of 128 characters is kept', async () => {
      const id = `${'A1._-'.repeat(25)}abc`;
      expect(await idsFor(`X-Request-Id: ${id}\r\n`)).toEqual({ response: id, upstream: id });
    });

    it('a CR inside the value cannot arrive: Node refuses the head, and the answer is the JSON error of docs/errors.md', async () => {
      expectClosingError(await exchange(gateway.port, 'GET /echo/request-id-cr HTTP/1.1\r\nHost: gw\r\nX-Request-Id: abc\rSet-Cookie: x=1\r\n\r\n'), 400, 'bad_request');
      expect(echoSaw('request-id-cr')).toBe(false);
    });
  });

  describe('slow-drip bodies: server.bodyIdleTimeoutMs', () => {
    async function permitsInUse(): Promise<number[]> {
      return samplesOf((await call(`${gateway.url}/_gateway/metrics`)).text, 'gateway_permits_in_use').map((s) => s.value);
    }

    it('a body that stops half-way gets 408 for its route, the upstream request is aborted, and its permits are given back', async () => {
      const connection = openRaw(gateway.port);
      connection.socket.write(`POST /hold/stalled HTTP/1.1\r\nHost: gw\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n${'s'.repeat(100)}`);
      const sentAt = performance.now();
      const arrival = await holding.next();
      expect(arrival.req.url).toBe('/hold/stalled');
      await arrival.received(100);
      const stalledAt = performance.now();
      expect(await permitsInUse()).toEqual([1, 1]);
      expectClosingError(await connection.response, 408, 'request_timeout', 'hold');
      const elapsed = (await connection.closedAt) - stalledAt;
      console.log(`hostile-input: a stalled body was answered 408 and closed after ${elapsed.toFixed(0)} ms`);
      expect(elapsed).toBeLessThan(BODY_IDLE_MS + SLACK_MS);
      expect((await connection.closedAt) - sentAt).toBeGreaterThanOrEqual(BODY_IDLE_MS - 20);
      expect(await arrival.closed).toEqual({ responseFinished: false, requestComplete: false });
      await eventually(async () => (await permitsInUse()).every((value) => value === 0), 'every gateway_permits_in_use gauge back at 0');
    });

    it('a body dripped in pieces closer together than bodyIdleTimeoutMs is read to the end', async () => {
      const connection = openRaw(gateway.port);
      connection.socket.write('POST /echo/dripped HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
      const pieces = 8;
      const startedAt = performance.now();
      for (let i = 0; i < pieces; i++) {
        connection.socket.write(chunk('d'.repeat(10)));
        await new Promise((resolve) => setTimeout(resolve, BODY_IDLE_MS / 4));
      }
      connection.socket.write('0\r\n\r\n');
      const { echo: seen } = echoed(await connection.response);
      // The whole body took longer than one idle period: only pauses count.
      expect(performance.now() - startedAt).toBeGreaterThan(BODY_IDLE_MS);
      expect(seen.bytes).toBe(pieces * 10);
    });

    it('time the upstream takes to read does not count against the client', async () => {
      // More than the socket buffers on both connections hold, so the client is held back mid-body.
      const body = Buffer.alloc(UPLOAD_BYTES, 'u');
      const connection = openRaw(gateway.port);
      connection.socket.write(`POST /slow-reader/upload HTTP/1.1\r\nHost: gw\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      connection.socket.write(body);
      const res = parseRawResponse(await connection.response);
      expect(res.status).toBe(200);
      expect(res.text).toBe(String(body.length));
    });

    it('a body that stalls after its request was answered in full: the connection is closed, not kept for the rest', async () => {
      const connection = openRaw(gateway.port);
      connection.socket.write(`POST /answered/early HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000\r\n\r\n${'a'.repeat(100)}`);
      const sentAt = performance.now();
      const raw = await connection.response;
      expect(raw).toMatch(/^HTTP\/1\.1 200 /);
      expect(raw).toContain('done');
      expect((await connection.closedAt) - sentAt).toBeLessThan(BODY_IDLE_MS + SLACK_MS);
    });

    it('a body that stalls after the response started: the connection is cut and the upstream request aborted', async () => {
      const connection = openRaw(gateway.port);
      connection.socket.write(`POST /early/stalled HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000\r\n\r\n${'e'.repeat(100)}`);
      const arrival = await early.next();
      await arrival.received(100);
      const raw = await connection.response;
      expect(raw).toMatch(/^HTTP\/1\.1 200 /);
      expect(raw).toContain('started');
      // Cut, not ended: the chunked response never got its last chunk.
      expect(raw.endsWith('0\r\n\r\n')).toBe(false);
      expect(await arrival.closed).toEqual({ responseFinished: false, requestComplete: false });
    });
  });
});
