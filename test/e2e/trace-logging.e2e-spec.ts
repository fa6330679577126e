import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent, request as undiciRequest } from 'undici';
import type { RunningGateway } from '../../src/bootstrap';
import { NotifyingLogCollector, startTestGateway } from '../support/gateway-fixture';
import { call } from '../support/http';
import { closedPort, startUpstream, type RecordedRequest, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/observability.md "Trace context and request ids" trace context and logging, through the real gateway at LOG_LEVEL debug with its
 * log lines collected in-process: ids kept or generated, sent upstream and returned; every line
 * written while a request is handled carries that request's traceId and requestId, even with
 * hundreds of requests interleaved; one access line per request; "Errors and status codes" client aborts as 499.
 */

const TRACEPARENT_FORMAT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const REQUEST_ID_FORMAT = /^[A-Za-z0-9._-]{1,128}$/;
const BURST = 200;
/** Unique per run, so ids of this run can never match anything left over. */
const RUN = randomBytes(4).toString('hex');

/** The status the upstream answers a path with: 200-203 by the number at its end. */
function statusOf(path: string): number {
  const match = /\/burst\/(\d+)$/.exec(path);
  return match ? 200 + (Number(match[1]) % 4) : 200;
}

function newTraceParent(): { header: string; traceId: string; parentId: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId };
}

function parseSentTraceParent(value: string | string[] | undefined): { traceId: string; parentId: string; flags: string } {
  const match = typeof value === 'string' ? TRACEPARENT_FORMAT.exec(value) : null;
  if (!match) throw new Error(`upstream got no valid traceparent: ${JSON.stringify(value)}`);
  return { traceId: match[1], parentId: match[2], flags: match[3] };
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name];
  if (typeof value !== 'string') throw new Error(`expected one ${name} header, got ${JSON.stringify(value)}`);
  return value;
}

/** An upstream that hands each request to the test and answers only when told (or when the test ends). */
function holdingHandler(): { handler: (req: IncomingMessage, res: ServerResponse) => void; next(): Promise<{ req: IncomingMessage; closed: Promise<void> }>; releaseAll(): void } {
  const waiting: Array<(arrival: { req: IncomingMessage; closed: Promise<void> }) => void> = [];
  const arrived: Array<{ req: IncomingMessage; closed: Promise<void> }> = [];
  const open = new Set<ServerResponse>();
  return {
    handler: (req, res) => {
      req.resume();
      open.add(res);
      const arrival = { req, closed: new Promise<void>((resolve) => res.once('close', () => (open.delete(res), resolve()))) };
      const waiter = waiting.shift();
      if (waiter) waiter(arrival);
      else arrived.push(arrival);
    },
    next: () => {
      const arrival = arrived.shift();
      return arrival ? Promise.resolve(arrival) : new Promise((resolve) => waiting.push(resolve));
    },
    releaseAll: () => {
      for (const res of open) if (!res.headersSent) res.writeHead(200).end('released');
    },
  };
}

describe('trace context and logging (docs/observability.md "Trace context and request ids")', () => {
  let logs: NotifyingLogCollector;
  let upstream: UpstreamFixture;
  let holding: ReturnType<typeof holdingHandler>;
  let holdingServer: UpstreamFixture;
  let gateway: RunningGateway;
  let agent: Agent;

  beforeAll(async () => {
    // Answers after a random 0-50 ms, so the burst's requests finish out of order, with the
    // status statusOf() gives its path, so a log line's status tells which request it is about.
    upstream = await startUpstream((req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => {
        setTimeout(() => {
          if (res.destroyed) return;
          // An upstream that sets an X-Request-Id of its own (/own-id/): the gateway's must win.
          const ownId = req.url?.includes('/own-id/') ? { 'x-request-id': 'set-by-the-upstream' } : {};
          res.writeHead(statusOf(req.url ?? ''), { 'content-type': 'application/json', ...ownId });
          res.end(JSON.stringify({ url: req.url, bytes, requestId: req.headers['x-request-id'] ?? null }));
        }, Math.floor(Math.random() * 51));
      });
    });
    holding = holdingHandler();
    holdingServer = await startUpstream(holding.handler);
    logs = new NotifyingLogCollector();
    gateway = await startTestGateway(
      {
        upstreams: {
          burst: { targets: [upstream.url] },
          holding: { targets: [holdingServer.url] },
          closed: { targets: [`http://127.0.0.1:${await closedPort()}`] },
        },
        routes: [
          { id: 'burst-route', path: '/burst/*', upstream: 'burst' },
          { id: 'hold-route', path: '/hold/*', upstream: 'holding' },
          { id: 'closed-route', path: '/closed/*', upstream: 'closed' },
        ],
      },
      { logLevel: 'debug' },
      logs,
    );
    agent = new Agent({ connections: BURST + 10 });
  });

  afterAll(async () => {
    holding.releaseAll();
    await holdingServer.close();
    await upstream.close();
    await agent.close();
    await gateway.close();
  });

  function upstreamRequestWithId(requestId: string): RecordedRequest {
    const found = upstream.requests.filter((r) => r.headers['x-request-id'] === requestId);
    if (found.length !== 1) throw new Error(`expected the upstream to get exactly one request with x-request-id ${requestId}, got ${found.length}`);
    return found[0];
  }

  describe(`${BURST} concurrent requests`, () => {
    interface Sent {
      index: number;
      requestId: string;
      method: 'GET' | 'POST';
      path: string;
      body: string;
      traceparent: ReturnType<typeof newTraceParent> | null;
      tracestate: string | null;
    }
    interface Received {
      status: number;
      requestIdHeader: string;
      text: string;
    }

    const sent: Sent[] = [];
    const received = new Map<string, Received>();
    let firstBurstLine = 0;
    let afterBurstLine = 0;
    /** requestId -> the traceId that request belongs to (the client's, or the one the upstream was sent). */
    const traceOf = new Map<string, string>();

    beforeAll(async () => {
      for (let index = 0; index < BURST; index++) {
        const traceparent = index % 2 === 0 ? newTraceParent() : null;
        const method = index % 3 === 0 ? 'POST' : 'GET';
        sent.push({
          index,
          requestId: `burst-${RUN}-${index}`,
          method,
          path: `/burst/${index}`,
          body: method === 'POST' ? 'b'.repeat(index) : '',
          traceparent,
          tracestate: traceparent ? `vendor${index}=opaque-${index}` : null,
        });
      }
      firstBurstLine = logs.lines.length;
      await Promise.all(
        sent.map(async (s) => {
          const headers: Record<string, string> = { 'x-request-id': s.requestId };
          if (s.traceparent) headers.traceparent = s.traceparent.header;
          if (s.tracestate) headers.tracestate = s.tracestate;
          const res = await undiciRequest(`${gateway.url}${s.path}`, {
            method: s.method,
            headers,
            body: s.method === 'POST' ? s.body : undefined,
            dispatcher: agent,
          });
          const text = await res.body.text();
          received.set(s.requestId, { status: res.statusCode, requestIdHeader: headerOf(res.headers, 'x-request-id'), text });
        }),
      );
      // The access line is written when the server side of each response closes, which may come
      // just after the client has read the whole response.
      const ids = new Set(sent.map((s) => s.requestId));
      await logs.waitForLines((l) => l.msg === 'request' && ids.has(l.requestId as string), BURST, 'access lines of the burst');
      afterBurstLine = logs.lines.length;
      for (const s of sent) {
        traceOf.set(s.requestId, s.traceparent ? s.traceparent.traceId : parseSentTraceParent(upstreamRequestWithId(s.requestId).headers.traceparent).traceId);
      }
    });

    it('every request succeeds and gets its own X-Request-Id back', () => {
      expect(received.size).toBe(BURST);
      for (const s of sent) {
        const r = received.get(s.requestId)!;
        expect({ id: s.requestId, status: r.status }).toEqual({ id: s.requestId, status: statusOf(s.path) });
        expect(r.requestIdHeader).toBe(s.requestId);
        // The response is this request's, not another's.
        expect(JSON.parse(r.text)).toMatchObject({ url: s.path, requestId: s.requestId, bytes: s.body.length });
      }
    });

    it('every upstream request carries its x-request-id and a traceparent continuing the right trace with a new parent-id', () => {
      const burstRequests = upstream.requests.filter((r) => String(r.headers['x-request-id']).startsWith(`burst-${RUN}-`));
      expect(burstRequests).toHaveLength(BURST);
      const parentIds = new Set<string>();
      for (const s of sent) {
        const got = upstreamRequestWithId(s.requestId);
        expect(got.url).toBe(s.path);
        const traceparent = parseSentTraceParent(got.headers.traceparent);
        parentIds.add(traceparent.parentId);
        if (s.traceparent) {
          expect(traceparent.traceId).toBe(s.traceparent.traceId);
          expect(traceparent.parentId).not.toBe(s.traceparent.parentId);
          expect(traceparent.flags).toBe('01');
          expect(got.headers.tracestate).toBe(s.tracestate);
        } else {
          expect(traceparent.traceId).not.toBe('0'.repeat(32));
          expect(got.headers.tracestate).toBeUndefined();
        }
        expect(traceparent.parentId).not.toBe('0'.repeat(16));
      }
      // Every hop is a span of its own.
      expect(parentIds.size).toBe(BURST);
    });

    it('a request without a traceparent starts a trace of its own, which its access line reports', () => {
      const newTraces = new Set<string>();
      for (const s of sent.filter((x) => x.traceparent === null)) {
        const traceId = traceOf.get(s.requestId)!;
        newTraces.add(traceId);
        const access = logs.lines.find((l) => l.msg === 'request' && l.requestId === s.requestId)!;
        expect(access.traceId).toBe(traceId);
      }
      expect(newTraces.size).toBe(BURST / 2);
    });

    it('every line carrying a requestId carries the traceId of that request and is about that request: no cross-talk', () => {
      expect(sent).toHaveLength(BURST);
      const ids = new Set(sent.map((s) => s.requestId));
      const lines = logs.lines.filter((l) => typeof l.requestId === 'string' && ids.has(l.requestId));
      const wrongTrace = lines.filter((l) => l.traceId !== traceOf.get(l.requestId as string));
      expect(wrongTrace).toEqual([]);
      // Each request's own lines, in the order written: forwarding, upstream responded (with the
      // status its upstream answered), access line; exactly one of each.
      for (const s of sent) {
        const own = lines.filter((l) => l.requestId === s.requestId);
        expect({ id: s.requestId, lines: own.map((l) => `${l.msg}${l.status === undefined ? '' : ` ${String(l.status)}`}`) }).toEqual({
          id: s.requestId,
          lines: ['forwarding', `upstream responded ${statusOf(s.path)}`, `request ${statusOf(s.path)}`],
        });
      }
    });

    it('every request has exactly one access line, with every field', () => {
      expect(sent).toHaveLength(BURST);
      for (const s of sent) {
        const access = logs.lines.filter((l) => l.msg === 'request' && l.requestId === s.requestId);
        expect({ id: s.requestId, accessLines: access.length }).toEqual({ id: s.requestId, accessLines: 1 });
        const line = access[0];
        expect(line).toMatchObject({
          level: 'info',
          method: s.method,
          path: s.path,
          route: 'burst-route',
          upstream: 'burst',
          target: upstream.url,
          status: statusOf(s.path),
          bytesIn: s.body.length,
          traceId: traceOf.get(s.requestId),
          requestId: s.requestId,
        });
        expect(typeof line.durationMs).toBe('number');
        expect(typeof line.upstreamMs).toBe('number');
        expect(line.durationMs as number).toBeGreaterThanOrEqual(0);
        expect(line.upstreamMs as number).toBeGreaterThanOrEqual(0);
        expect(line.upstreamMs as number).toBeLessThanOrEqual(line.durationMs as number);
        // Bytes written to the client: status line and headers on top of the body.
        expect(typeof line.bytesOut).toBe('number');
        expect(line.bytesOut as number).toBeGreaterThan(Buffer.byteLength(received.get(s.requestId)!.text));
        expect('code' in line).toBe(false);
      }
    });

    it('every request has its "forwarding" and "upstream responded" debug lines, with its ids', () => {
      expect(sent).toHaveLength(BURST);
      for (const s of sent) {
        const forwarding = logs.lines.filter((l) => l.msg === 'forwarding' && l.requestId === s.requestId);
        const responded = logs.lines.filter((l) => l.msg === 'upstream responded' && l.requestId === s.requestId);
        expect({ id: s.requestId, forwarding: forwarding.length, responded: responded.length }).toEqual({
          id: s.requestId,
          forwarding: 1,
          responded: 1,
        });
        const traceId = traceOf.get(s.requestId);
        expect(forwarding[0]).toMatchObject({ level: 'debug', traceId, upstream: 'burst', target: upstream.url });
        expect(responded[0]).toMatchObject({ level: 'debug', traceId, upstream: 'burst', status: statusOf(s.path) });
      }
    });

    it('no line written during the burst lacks ids', () => {
      const during = logs.lines.slice(firstBurstLine, afterBurstLine);
      expect(during.length).toBeGreaterThanOrEqual(BURST * 3);
      const withoutIds = during.filter((l) => typeof l.traceId !== 'string' || typeof l.requestId !== 'string');
      expect(withoutIds).toEqual([]);
    });

    it('lines without ids are start-up lines, which name their context', () => {
      const withoutIds = logs.lines.filter((l) => typeof l.traceId !== 'string' || typeof l.requestId !== 'string');
      expect(withoutIds.length).toBeGreaterThan(0);
      for (const line of withoutIds) expect({ msg: line.msg, context: typeof line.context }).toEqual({ msg: line.msg, context: 'string' });
      expect(withoutIds.some((l) => l.msg === 'gateway listening')).toBe(true);
    });

    it('every line is a JSON object with a level, a time and a message', () => {
      expect(logs.lines.length).toBeGreaterThanOrEqual(BURST * 3);
      for (const line of logs.lines) {
        expect(typeof line.level).toBe('string');
        expect(typeof line.time).toBe('string');
        expect(typeof line.msg).toBe('string');
      }
    });
  });

  describe('X-Request-Id', () => {
    it.each<[string, string]>([
      ['a UUID', '0f8fad5b-d9cb-469f-a165-70867728950e'],
      ['one character', 'z'],
      ['every allowed character class', `Abc.DEF_ghi-123-${RUN}`],
      ['exactly 128 characters', `${RUN}${'k'.repeat(128 - RUN.length)}`],
    ])('is kept when valid (%s): returned, sent upstream and logged', async (_name, requestId) => {
      const res = await call(`${gateway.url}/burst/kept`, { headers: { 'x-request-id': requestId } });
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBe(requestId);
      expect(upstream.requests.at(-1)!.headers['x-request-id']).toBe(requestId);
      const access = await logs.accessLineOf(requestId);
      expect(access.path).toBe('/burst/kept');
    });

    it.each<[string, string | null]>([
      ['missing', null],
      ['129 characters', 'a'.repeat(129)],
      ['with a space', 'has space'],
      ['with a slash', 'a/b'],
      ['with a colon', 'a:b'],
      ['with a plus sign', 'a+b'],
      ['empty', ''],
    ])('is generated when %s: a valid new id, returned, sent upstream and logged', async (_name, incoming) => {
      const headers: Record<string, string> = incoming === null ? {} : { 'x-request-id': incoming };
      const before = upstream.requests.length;
      const res = await call(`${gateway.url}/burst/generated`, { headers });
      expect(res.status).toBe(200);
      const generated = headerOf(res.headers, 'x-request-id');
      expect(generated).toMatch(REQUEST_ID_FORMAT);
      expect(generated).not.toBe(incoming);
      expect(upstream.requests).toHaveLength(before + 1);
      expect(upstream.requests[before].headers['x-request-id']).toBe(generated);
      const access = await logs.accessLineOf(generated);
      expect(access.path).toBe('/burst/generated');
    });

    it('generated ids differ from request to request', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 5; i++) ids.add(headerOf((await call(`${gateway.url}/burst/fresh`)).headers, 'x-request-id'));
      expect(ids.size).toBe(5);
    });

    it("replaces an X-Request-Id the upstream's response sets: the client gets the gateway's, once", async () => {
      const res = await call(`${gateway.url}/burst/own-id/x`, { headers: { 'x-request-id': `own-${RUN}` } });
      expect(res.status).toBe(200);
      // Sent twice, undici would hand over both values as an array.
      expect(res.headers['x-request-id']).toBe(`own-${RUN}`);
    });

    it('is returned on a response the upstream never produced (404)', async () => {
      const res = await call(`${gateway.url}/no/such/route`, { headers: { 'x-request-id': `nf-${RUN}` } });
      expect(res.status).toBe(404);
      expect(res.headers['x-request-id']).toBe(`nf-${RUN}`);
    });
  });

  describe('tracestate', () => {
    async function upstreamGot(headers: Record<string, string>): Promise<RecordedRequest> {
      const before = upstream.requests.length;
      const res = await call(`${gateway.url}/burst/tracestate`, { headers });
      expect(res.status).toBe(200);
      expect(upstream.requests).toHaveLength(before + 1);
      return upstream.requests[before];
    }

    it('is forwarded with a valid traceparent', async () => {
      const tp = newTraceParent();
      const got = await upstreamGot({ traceparent: tp.header, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
      expect(got.headers.tracestate).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
      expect(parseSentTraceParent(got.headers.traceparent).traceId).toBe(tp.traceId);
    });

    it('is dropped without a traceparent', async () => {
      const got = await upstreamGot({ tracestate: 'congo=t61rcWkgMzE' });
      expect(got.headers.tracestate).toBeUndefined();
      parseSentTraceParent(got.headers.traceparent);
    });

    it.each<[string, string]>([
      ['an all-zero trace-id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
      ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      ['an upper-case trace-id', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
      ['garbage', 'nonsense'],
    ])('is dropped with an invalid traceparent (%s), which starts a new trace', async (_name, traceparent) => {
      const got = await upstreamGot({ traceparent, tracestate: 'congo=t61rcWkgMzE' });
      expect(got.headers.tracestate).toBeUndefined();
      const sent = parseSentTraceParent(got.headers.traceparent);
      expect(sent.traceId).not.toBe('0'.repeat(32));
      expect(sent.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(got.headers.traceparent).not.toBe(traceparent);
    });
  });

  describe('a client that goes away', () => {
    it('is logged once with status 499 and code client_closed, with its ids', async () => {
      const tp = newTraceParent();
      const requestId = `abort-${RUN}`;
      const req = httpRequest({
        host: '127.0.0.1',
        port: gateway.port,
        path: '/hold/abort',
        agent: false,
        headers: { 'x-request-id': requestId, traceparent: tp.header },
      });
      req.on('error', () => undefined);
      req.end();
      const arrival = await holding.next();
      expect(arrival.req.headers['x-request-id']).toBe(requestId);
      req.destroy();
      await arrival.closed;
      const access = await logs.accessLineOf(requestId);
      expect(access).toMatchObject({
        status: 499,
        code: 'client_closed',
        method: 'GET',
        path: '/hold/abort',
        route: 'hold-route',
        upstream: 'holding',
        target: holdingServer.url,
        traceId: tp.traceId,
        requestId,
      });
      expect(logs.lines.filter((l) => l.msg === 'request' && l.requestId === requestId)).toHaveLength(1);
      // The debug lines of the aborted request are its own too.
      const own = logs.lines.filter((l) => l.requestId === requestId);
      expect(own.length).toBeGreaterThanOrEqual(2);
      for (const line of own) expect(line.traceId).toBe(tp.traceId);
    });
  });

  describe('secrets', () => {
    const AUTHORIZATION_SECRET = `authz-${randomBytes(12).toString('hex')}`;
    const COOKIE_SECRET = `cookie-${randomBytes(12).toString('hex')}`;
    const PROXY_AUTHORIZATION_SECRET = `proxyauthz-${randomBytes(12).toString('hex')}`;

    it('Authorization and Cookie values never appear in any log line', async () => {
      const headers = {
        authorization: `Bearer ${AUTHORIZATION_SECRET}`,
        cookie: `session=${COOKIE_SECRET}; theme=dark`,
        'proxy-authorization': `Basic ${PROXY_AUTHORIZATION_SECRET}`,
      };
      const cases: Array<[string, number]> = [
        ['/burst/secret', 200],
        ['/no/route/secret', 404],
        ['/closed/secret', 502],
      ];
      for (const [path, status] of cases) {
        const requestId = `secret-${RUN}-${status}`;
        const res = await call(`${gateway.url}${path}`, { headers: { ...headers, 'x-request-id': requestId } });
        expect(res.status).toBe(status);
        await logs.accessLineOf(requestId);
      }
      // The secrets did travel through the gateway: the upstream got them.
      const got = upstream.requests.find((r) => r.headers['x-request-id'] === `secret-${RUN}-200`)!;
      expect(got.headers.authorization).toBe(headers.authorization);
      expect(got.headers.cookie).toBe(headers.cookie);

      const text = logs.lines.map((l) => JSON.stringify(l)).join('\n');
      expect(text).toContain(`secret-${RUN}-502`);
      expect(text).not.toContain(AUTHORIZATION_SECRET);
      expect(text).not.toContain(COOKIE_SECRET);
      expect(text).not.toContain(PROXY_AUTHORIZATION_SECRET);
    });
  });
});
