import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RunningGateway } from '../../src/bootstrap';
import { startTestGateway } from '../support/gateway-fixture';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { call, parseRawResponse, rawExchange } from '../support/http';
import { closedPort, startUpstream, type EchoBody, type UpstreamFixture } from '../support/upstream-fixture';
import { holdingUpstream, type Arrival } from '../support/holding-upstream';

/*
 * docs/errors.md "Errors and status codes" errors (and the "Proxying and headers" rules that produce them) through the real gateway, against
 * real upstreams: node:http servers and raw TCP servers that misbehave on purpose.
 */

const BODY_LIMIT = 1024;
/** rawExchange waits this long for silence; every exchange here ends with the gateway closing the socket first. */
const RAW_IDLE_MS = 15_000;

/** A raw TCP server that plays a broken upstream. */
async function startRawUpstream(onConnection: (socket: Socket) => void): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: NetServer = createNetServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One request that reached the holding upstream, with promises for what happens to it. */
/** Opens a raw connection to the gateway; `response` resolves with everything it sends until it closes. */
function openRaw(port: number): { socket: Socket; response: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  const response = new Promise<string>((resolve, reject) => {
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
  return { socket, response };
}

function chunk(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
}

describe('error responses (docs/errors.md "Errors and status codes")', () => {
  let echo: UpstreamFixture;
  let holding: ReturnType<typeof holdingUpstream>;
  let holdingServer: UpstreamFixture;
  let resetting: Awaited<ReturnType<typeof startRawUpstream>>;
  let garbage: Awaited<ReturnType<typeof startRawUpstream>>;
  let hangingUp: Awaited<ReturnType<typeof startRawUpstream>>;
  let gateway: RunningGateway;

  beforeAll(async () => {
    echo = await startUpstream();
    holding = holdingUpstream();
    holdingServer = await startUpstream(holding.handler);
    // Reads the request, then resets the connection (RST) without a byte of response.
    resetting = await startRawUpstream((socket) => socket.once('data', () => socket.resetAndDestroy()));
    // Answers something that is not HTTP at all.
    garbage = await startRawUpstream((socket) => socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\nthis is not an HTTP response\r\n\r\n')));
    // Reads the request, then closes the connection cleanly without answering.
    hangingUp = await startRawUpstream((socket) => socket.once('data', () => socket.end()));
    gateway = await startTestGateway({
      server: { bodyLimitBytes: BODY_LIMIT },
      upstreams: {
        echo: { targets: [echo.url] },
        holding: { targets: [holdingServer.url] },
        closed: { targets: [`http://127.0.0.1:${await closedPort()}`] },
        resetting: { targets: [resetting.url] },
        garbage: { targets: [garbage.url] },
        hangingUp: { targets: [hangingUp.url] },
      },
      routes: [
        { id: 'echo', path: '/echo/*', upstream: 'echo' },
        { id: 'read-only', path: '/ro/:id', methods: ['GET', 'HEAD'], upstream: 'echo' },
        { id: 'holding', path: '/hold/*', upstream: 'holding' },
        { id: 'closed', path: '/closed/*', upstream: 'closed' },
        { id: 'resetting', path: '/reset/*', upstream: 'resetting' },
        { id: 'garbage', path: '/garbage/*', upstream: 'garbage' },
        { id: 'hanging-up', path: '/hangup/*', upstream: 'hangingUp' },
      ],
    });
  });

  afterAll(async () => {
    // Upstreams first: a request still waiting on one then ends, and the gateway can close.
    await holdingServer.close();
    await echo.close();
    await resetting.close();
    await garbage.close();
    await hangingUp.close();
    await gateway.close();
  });

  function echoSaw(fragment: string): boolean {
    return echo.requests.some((r) => r.url.includes(fragment));
  }

  describe('400 bad_request: the gateway is never an open proxy', () => {
    it('refuses an absolute-form target naming an upstream', async () => {
      const target = `${echo.url}/echo/open-proxy-absolute`;
      const raw = await rawExchange(gateway.port, `GET ${target} HTTP/1.1\r\nHost: ${echo.url.slice(7)}\r\n\r\n`, RAW_IDLE_MS);
      expectGatewayError(parseRawResponse(raw), 400, 'bad_request', null);
      expect(echoSaw('open-proxy-absolute')).toBe(false);
    });

    it('refuses GET http://other/', async () => {
      const raw = await rawExchange(gateway.port, 'GET http://other/ HTTP/1.1\r\nHost: other\r\n\r\n', RAW_IDLE_MS);
      expectGatewayError(parseRawResponse(raw), 400, 'bad_request', null);
    });

    it('refuses an absolute-form target on a body method, before reading the body', async () => {
      const raw = await rawExchange(
        gateway.port,
        `POST ${echo.url}/echo/open-proxy-post HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`,
        RAW_IDLE_MS,
      );
      expectGatewayError(parseRawResponse(raw), 400, 'bad_request', null);
      expect(echoSaw('open-proxy-post')).toBe(false);
    });

    it('refuses CONNECT and opens no tunnel', async () => {
      const authority = echo.url.slice('http://'.length);
      const before = echo.requests.length;
      const { socket, response } = openRaw(gateway.port);
      // Bytes after the CONNECT head would be tunnelled by an open proxy.
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\nGET /echo/tunnelled HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
      const raw = await response;
      expectGatewayError(parseRawResponse(raw), 400, 'bad_request', null);
      expect(raw.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      expect(echo.requests.length).toBe(before);
    });
  });

  describe('400 bad_request: malformed requests', () => {
    it.each([
      ['a request line that is not HTTP', 'THIS IS NOT HTTP /echo/malformed-0\r\n\r\n'],
      ['a request line with an extra token', 'GET /echo/malformed-1 HTTP/1.1 extra\r\nHost: x\r\n\r\n'],
      ['an unknown HTTP version', 'GET /echo/malformed-2 HTTP/9.9\r\nHost: x\r\n\r\n'],
      ['a header line without a colon', 'GET /echo/malformed-3 HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n'],
      ['a non-numeric Content-Length', 'POST /echo/malformed-4 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'],
      [
        'both Content-Length and Transfer-Encoding (request smuggling)',
        'POST /echo/malformed-5 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
      // RFC 9112, section 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host or with more than one.
      ['an HTTP/1.1 request without Host', 'GET /echo/malformed-6 HTTP/1.1\r\nConnection: close\r\n\r\n'],
      ['an HTTP/1.1 request with two Host headers', 'GET /echo/malformed-7 HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n'],
      ['a path with an invalid percent-encoding', 'GET /echo/malformed-8/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ])('%s', async (_name, payload) => {
      const marker = /malformed-\d/.exec(payload)![0];
      const raw = await rawExchange(gateway.port, payload, RAW_IDLE_MS);
      expectGatewayError(parseRawResponse(raw), 400, 'bad_request', null);
      expect(echoSaw(marker)).toBe(false);
    });
  });

  describe('404 and 405', () => {
    it('404 no_route without a route field', async () => {
      const res = await call(`${gateway.url}/nowhere/at/all`);
      expectGatewayError(res, 404, 'no_route', null);
    });

    it('404 for HEAD has the headers and no body', async () => {
      const res = await call(`${gateway.url}/nowhere`, { method: 'HEAD' });
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json\b/);
      expect(res.text).toBe('');
    });

    it('405 method_not_allowed with Allow, without a route field, upstream not called', async () => {
      const before = echo.requests.length;
      const res = await call(`${gateway.url}/ro/1`, { method: 'POST', body: 'x' });
      expectGatewayError(res, 405, 'method_not_allowed', null);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(echo.requests.length).toBe(before);
    });
  });

  describe('413 body_too_large', () => {
    it('a declared Content-Length above bodyLimitBytes is refused before any byte of the body, and the upstream is not called', async () => {
      // Only the head is sent: the gateway must answer from the declared length alone.
      const raw = await rawExchange(
        gateway.port,
        `POST /echo/declared-too-large HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${BODY_LIMIT + 1}\r\n\r\n`,
        RAW_IDLE_MS,
      );
      expectGatewayError(parseRawResponse(raw), 413, 'body_too_large', 'echo');
      expect(echoSaw('declared-too-large')).toBe(false);
    });

    it('a body of exactly bodyLimitBytes passes', async () => {
      const body = randomBytes(BODY_LIMIT);
      const res = await call(`${gateway.url}/echo/at-limit`, { method: 'POST', body });
      expect(res.status).toBe(200);
      expect(res.json<EchoBody>().bytes).toBe(BODY_LIMIT);
    });

    it('a chunked body is cut off once it passes the limit while streaming; the upstream request is aborted', async () => {
      const { socket, response } = openRaw(gateway.port);
      socket.write('POST /hold/chunked-too-large HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
      const first = randomBytes(600);
      socket.write(chunk(first));
      // The first 600 bytes are under the limit: they stream to the upstream.
      const arrival = await holding.next();
      expect(arrival.req.url).toBe('/hold/chunked-too-large');
      await arrival.received(first.length);
      // 600 more pass the 1024-byte limit; the body is never terminated by the client.
      socket.write(chunk(randomBytes(600)));
      expectGatewayError(parseRawResponse(await response), 413, 'body_too_large', 'holding');
      const outcome = await arrival.closed;
      expect(outcome).toEqual({ responseFinished: false, requestComplete: false });
      expect(arrival.bytes()).toBeLessThanOrEqual(BODY_LIMIT);
    });

    it('a chunked body whose first chunk is already over the limit', async () => {
      const body = randomBytes(BODY_LIMIT * 4);
      const { socket, response } = openRaw(gateway.port);
      socket.write('POST /echo/chunked-whole-too-large HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      socket.write(chunk(body));
      expectGatewayError(parseRawResponse(await response), 413, 'body_too_large', 'echo');
    });
  });

  describe('502 upstream_unreachable', () => {
    it.each([
      ['a closed port (connection refused)', '/closed/x', 'closed'],
      ['an upstream that resets the connection', '/reset/x', 'resetting'],
      ['an upstream that answers something that is not HTTP', '/garbage/x', 'garbage'],
      ['an upstream that closes the connection without answering', '/hangup/x', 'hanging-up'],
    ])('%s', async (_name, path, route) => {
      const res = await call(`${gateway.url}${path}`);
      expectGatewayError(res, 502, 'upstream_unreachable', route);
    });

    it('also for a request with a body', async () => {
      const before = resetting.connections();
      const res = await call(`${gateway.url}/reset/with-body`, { method: 'POST', body: 'payload' });
      expectGatewayError(res, 502, 'upstream_unreachable', 'resetting');
      // This POST itself reached the upstream that reset it, once: a POST whose body was sent is not replayed.
      expect(resetting.connections() - before).toBe(1);
    });

    it('the gateway keeps serving other routes afterwards', async () => {
      await call(`${gateway.url}/garbage/again`);
      const res = await call(`${gateway.url}/echo/still-fine`);
      expect(res.status).toBe(200);
      expect(res.json<EchoBody>().url).toBe('/echo/still-fine');
    });
  });

  describe('a client that goes away cancels its upstream request (docs/routing.md "Proxying and headers")', () => {
    /**
     * The upstream would answer `arrival` this long after it arrived. The cancel must reach it
     * soon after the client leaves: well before that (in the first half of it), not when the
     * upstream answers or when the route's 30 s default deadline fires.
     */
    const ANSWER_AFTER_MS = 10_000;

    /** Has the upstream answer `arrival` after ANSWER_AFTER_MS unless its request is closed first. */
    function answerLater(arrival: Arrival): void {
      const timer = setTimeout(() => arrival.res.writeHead(200, { 'content-type': 'text/plain' }).end('answered late'), ANSWER_AFTER_MS);
      void arrival.closed.then(() => clearTimeout(timer));
    }

    it('while waiting for the response', async () => {
      const req = httpRequest({ host: '127.0.0.1', port: gateway.port, path: '/hold/waiting', agent: false });
      req.on('error', () => undefined);
      req.end();
      const arrival = await holding.next();
      expect(arrival.req.url).toBe('/hold/waiting');
      answerLater(arrival);
      const leftAt = performance.now();
      req.destroy();
      expect((await arrival.closed).responseFinished).toBe(false);
      const cancelledAfterMs = performance.now() - leftAt;
      console.log(`errors: the upstream saw the client's departure after ${cancelledAfterMs.toFixed(1)} ms`);
      expect(cancelledAfterMs).toBeLessThan(ANSWER_AFTER_MS / 2);
    });

    it('in the middle of an upload', async () => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: gateway.port,
        path: '/hold/uploading',
        method: 'PUT',
        agent: false,
        headers: { 'content-type': 'application/octet-stream', 'content-length': '500' },
      });
      req.on('error', () => undefined);
      req.write(randomBytes(200));
      const arrival = await holding.next();
      expect(arrival.req.url).toBe('/hold/uploading');
      await arrival.received(200);
      answerLater(arrival);
      const leftAt = performance.now();
      req.destroy();
      expect(await arrival.closed).toEqual({ responseFinished: false, requestComplete: false });
      expect(performance.now() - leftAt).toBeLessThan(ANSWER_AFTER_MS / 2);
      expect(arrival.bytes()).toBe(200);
    });

    it('the gateway keeps serving afterwards', async () => {
      const res = await call(`${gateway.url}/echo/after-disconnects`);
      expect(res.status).toBe(200);
    });
  });
});
