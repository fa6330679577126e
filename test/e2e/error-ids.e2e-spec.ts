import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunningGateway } from '../../src/bootstrap';
import type { ErrorBody } from '../../src/errors/error-response';
import { NotifyingLogCollector, startTestGateway, type LogLine } from '../support/gateway-fixture';
import { call, parseRawResponse, rawExchange, type ParsedResponse } from '../support/http';
import { closedPort, startUpstream, type UpstreamFixture } from '../support/upstream-fixture';
import { waitFor } from '../support/wait-for';

/*
 * docs/errors.md "Errors and status codes" and "Trace context and request ids": every response the gateway produces itself carries the request's ids: an
 * X-Request-Id header (kept when valid, generated otherwise) and a `traceId` in the JSON body,
 * the incoming trace-id when a valid traceparent came in, the gateway's new one otherwise (the
 * same one its access line reports).
 */

const BODY_LIMIT = 1024;
const TIMEOUT_MS = 200;
const RUN = randomBytes(4).toString('hex');
const TRACE_ID_FORMAT = /^[0-9a-f]{32}$/;
const REQUEST_ID_FORMAT = /^[A-Za-z0-9._-]{1,128}$/;
/** rawExchange waits this long for silence; every raw exchange here ends with the gateway closing the socket. */
const RAW_IDLE_MS = 15_000;
/** How long a test waits for a request to reach the holding upstream before it fails. */
const ARRIVAL_TIMEOUT_MS = 10_000;

/** The ids a request is sent with: both (a valid traceparent and X-Request-Id) or none. */
interface Ids {
  traceId: string | null;
  requestId: string | null;
  headers: Record<string, string>;
}

let counter = 0;

function withIds(): Ids {
  const traceId = randomBytes(16).toString('hex');
  const requestId = `err-${RUN}-${++counter}`;
  return { traceId, requestId, headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, 'x-request-id': requestId } };
}

function withoutIds(): Ids {
  return { traceId: null, requestId: null, headers: {} };
}

function rawHeaderLines(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
}

/** An upstream that holds every request until released; arrivals are awaited by URL. */
function holdingUpstream(): {
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  arrival(url: string): Promise<void>;
  releaseAll(): void;
} {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const seen = new Set<string>();
  const open = new Set<ServerResponse>();
  return {
    handler: (req, res) => {
      req.resume();
      open.add(res);
      res.once('close', () => open.delete(res));
      seen.add(req.url ?? '');
      events.emit('change');
    },
    arrival: (url) => waitFor(events, () => seen.has(url), `a request for ${url} to arrive`, ARRIVAL_TIMEOUT_MS),
    releaseAll: () => {
      for (const res of open) if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/plain' }).end('released');
    },
  };
}

describe('ids on the gateway’s own responses (docs/errors.md "Errors and status codes" and "Trace context and request ids")', () => {
  let logs: NotifyingLogCollector;
  let echo: UpstreamFixture;
  let holding: ReturnType<typeof holdingUpstream>;
  let holdingServer: UpstreamFixture;
  let gateway: RunningGateway;

  beforeAll(async () => {
    echo = await startUpstream();
    holding = holdingUpstream();
    holdingServer = await startUpstream(holding.handler);
    logs = new NotifyingLogCollector();
    gateway = await startTestGateway(
      {
        server: { bodyLimitBytes: BODY_LIMIT },
        upstreams: {
          echo: { targets: [echo.url] },
          holding: { targets: [holdingServer.url] },
          closed: { targets: [`http://127.0.0.1:${await closedPort()}`] },
        },
        routes: [
          { id: 'read-only', path: '/ro/:id', methods: ['GET', 'HEAD'], upstream: 'echo' },
          { id: 'echo', path: '/echo/*', upstream: 'echo' },
          { id: 'limited', path: '/limited/*', upstream: 'holding', concurrency: { limit: 1 } },
          { id: 'slow', path: '/slow/*', upstream: 'holding', timeoutMs: TIMEOUT_MS },
          { id: 'closed', path: '/closed/*', upstream: 'closed' },
        ],
      },
      { logLevel: 'info' },
      logs,
    );
  });

  afterAll(async () => {
    holding.releaseAll();
    await holdingServer.close();
    await echo.close();
    await gateway.close();
  });

  /** The access line of a request, once written (it is written when the response closes). */
  async function accessLineOf(requestId: string): Promise<LogLine> {
    const found = await logs.waitForLines((l) => l.msg === 'request' && l.requestId === requestId, 1, `access line of ${requestId}`);
    expect(found).toHaveLength(1);
    return found[0];
  }

  /**
   * The response carries the ids: X-Request-Id kept (or generated, valid), the body's traceId the
   * incoming trace-id (or a new, valid one), both matching the request's access line.
   */
  async function expectIds(res: ParsedResponse, ids: Ids, status: number, code: string): Promise<void> {
    expect({ status: res.status, body: res.text }).toMatchObject({ status });
    const body = JSON.parse(res.text) as ErrorBody;
    expect(body.code).toBe(code);
    const requestIdHeader = res.headers['x-request-id'];
    expect(typeof requestIdHeader).toBe('string');
    if (ids.requestId !== null) expect(requestIdHeader).toBe(ids.requestId);
    else expect(requestIdHeader).toMatch(REQUEST_ID_FORMAT);
    expect(typeof body.traceId).toBe('string');
    const traceId = body.traceId as string;
    if (ids.traceId !== null) {
      expect(traceId).toBe(ids.traceId);
    } else {
      expect(traceId).toMatch(TRACE_ID_FORMAT);
      expect(traceId).not.toBe('0'.repeat(32));
    }
    const access = await accessLineOf(requestIdHeader as string);
    expect(access).toMatchObject({ status, code, traceId });
  }

  const variants: Array<[string, () => Ids]> = [
    ['with a traceparent and an X-Request-Id', withIds],
    ['without either', withoutIds],
  ];

  describe.each(variants)('%s', (_variant, makeIds) => {
    it('404 no_route', async () => {
      const ids = makeIds();
      await expectIds(await call(`${gateway.url}/nowhere/${RUN}`, { headers: ids.headers }), ids, 404, 'no_route');
    });

    it('405 method_not_allowed', async () => {
      const ids = makeIds();
      const res = await call(`${gateway.url}/ro/1`, { method: 'DELETE', headers: ids.headers });
      await expectIds(res, ids, 405, 'method_not_allowed');
      expect(res.headers.allow).toBe('GET, HEAD');
    });

    it('413 body_too_large (declared Content-Length)', async () => {
      const ids = makeIds();
      const res = await call(`${gateway.url}/echo/large`, { method: 'POST', headers: ids.headers, body: Buffer.alloc(BODY_LIMIT + 1) });
      await expectIds(res, ids, 413, 'body_too_large');
    });

    it('413 body_too_large (Expect: 100-continue, refused before the body)', async () => {
      const ids = makeIds();
      const raw = await rawExchange(
        gateway.port,
        `POST /echo/expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${BODY_LIMIT + 1}\r\n${rawHeaderLines(ids.headers)}\r\n`,
        RAW_IDLE_MS,
      );
      await expectIds(parseRawResponse(raw), ids, 413, 'body_too_large');
    });

    it('429 concurrency_limit', async () => {
      const ids = makeIds();
      const heldPath = `/limited/held-${++counter}`;
      const held = call(`${gateway.url}${heldPath}`);
      await holding.arrival(heldPath);
      try {
        const res = await call(`${gateway.url}/limited/refused`, { headers: ids.headers });
        await expectIds(res, ids, 429, 'concurrency_limit');
        expect(res.headers['retry-after']).toBeDefined();
      } finally {
        holding.releaseAll();
        expect((await held).status).toBe(200);
      }
    });

    it('502 upstream_unreachable', async () => {
      const ids = makeIds();
      await expectIds(await call(`${gateway.url}/closed/x`, { headers: ids.headers }), ids, 502, 'upstream_unreachable');
    });

    it('504 upstream_timeout', async () => {
      const ids = makeIds();
      const path = `/slow/${++counter}`;
      const res = await call(`${gateway.url}${path}`, { headers: ids.headers });
      await expectIds(res, ids, 504, 'upstream_timeout');
      // It did reach the upstream: the timeout is the upstream's, not a refusal.
      await holding.arrival(path);
    });

    it('400 bad_request from the raw server (absolute-form target)', async () => {
      const ids = makeIds();
      const raw = await rawExchange(
        gateway.port,
        `GET http://other.example/echo/x HTTP/1.1\r\nHost: other.example\r\n${rawHeaderLines(ids.headers)}\r\n`,
        RAW_IDLE_MS,
      );
      await expectIds(parseRawResponse(raw), ids, 400, 'bad_request');
    });

    it('400 bad_request from the raw server (two Host headers)', async () => {
      const ids = makeIds();
      const raw = await rawExchange(gateway.port, `GET /echo/x HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n${rawHeaderLines(ids.headers)}\r\n`, RAW_IDLE_MS);
      await expectIds(parseRawResponse(raw), ids, 400, 'bad_request');
    });

    it('400 bad_request for a CONNECT request', async () => {
      const ids = makeIds();
      const raw = await rawExchange(gateway.port, `CONNECT ${echo.url.slice(7)} HTTP/1.1\r\nHost: ${echo.url.slice(7)}\r\n${rawHeaderLines(ids.headers)}\r\n`, RAW_IDLE_MS);
      const res = parseRawResponse(raw);
      expect(res.status).toBe(400);
      const body = JSON.parse(res.text) as ErrorBody;
      expect(body.code).toBe('bad_request');
      expect(body.traceId).toEqual(ids.traceId ?? expect.stringMatching(TRACE_ID_FORMAT));
      expect(res.headers['x-request-id']).toEqual(ids.requestId ?? expect.stringMatching(REQUEST_ID_FORMAT));
    });
  });

  it('a refused CONNECT request has its one access line, with its ids (docs/observability.md "Trace context and request ids")', async () => {
    const ids = withIds();
    const authority = echo.url.slice(7);
    await rawExchange(gateway.port, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${rawHeaderLines(ids.headers)}\r\n`, RAW_IDLE_MS);
    const access = await accessLineOf(ids.requestId!);
    expect(access).toMatchObject({ method: 'CONNECT', status: 400, code: 'bad_request', traceId: ids.traceId });
  });

  it('a malformed request still gets a traceId', async () => {
    const raw = await rawExchange(gateway.port, 'THIS IS NOT HTTP\r\n\r\n', RAW_IDLE_MS);
    const res = parseRawResponse(raw);
    expect(res.status).toBe(400);
    const body = JSON.parse(res.text) as ErrorBody;
    expect(body.code).toBe('bad_request');
    expect(body.traceId).toMatch(TRACE_ID_FORMAT);
    expect(body.traceId).not.toBe('0'.repeat(32));
  });

  it('each error response without a traceparent gets a trace of its own', async () => {
    const traceIds = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await call(`${gateway.url}/nowhere/again`);
      expect(res.status).toBe(404);
      traceIds.add(res.json<ErrorBody>().traceId as string);
    }
    expect(traceIds.size).toBe(5);
  });
});
