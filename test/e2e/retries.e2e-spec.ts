import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { call, rawExchange, type TestResponse } from '../support/http';
import { testResources } from '../support/test-resources';
import { closedPort } from '../support/upstream-fixture';

/*
 * docs/configuration.md "Config file reference" `retry` (idempotent methods only, on connect errors/502/503, on the next target)
 * and "Errors and status codes" (a request that fails on a stale keep-alive socket is replayed once on a fresh one).
 */

const resources = testResources();

/*
 * Upstreams with a failing target turn passive ejection off (`consecutiveFailures: 0`): these
 * tests are about retries, which must keep meeting the failing target. Ejection has its own
 * spec (upstream-health.e2e-spec.ts).
 */
const { gatewayWith, upstream } = resources;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function sequential(count: number, send: (index: number) => Promise<TestResponse>): Promise<TestResponse[]> {
  const responses: TestResponse[] = [];
  for (let i = 0; i < count; i++) responses.push(await send(i));
  return responses;
}

function statusCounts(responses: TestResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

const count = (counts: Record<number, number>, status: number): number => counts[status] ?? 0;

/** Every 502 among `responses` (there must be some) is the gateway's upstream_unreachable for `route`. */
function expectUnreachable(responses: TestResponse[], route: string): void {
  const unreachable = responses.filter((r) => r.status === 502);
  expect(unreachable.length).toBeGreaterThan(0);
  for (const res of unreachable) {
    expect(res.json()).toMatchObject({ statusCode: 502, code: 'upstream_unreachable', route });
  }
}

/**
 * A raw HTTP/1.1 server speaking just enough keep-alive: it answers `200 ok` to each request on a
 * connection and never sends a Keep-Alive header. Once a connection has been idle for `idleMs`:
 * `close` closes it (the way many servers and load balancers do without announcing it);
 * `drop-late` keeps it open but drops it, unanswered, when a request arrives on it later: the
 * request meets a socket the server has already given up on, which makes the stale-socket
 * race deterministic.
 */
interface RawKeepAliveServer {
  readonly url: string;
  readonly connections: number;
  readonly requests: number;
  /** Requests that arrived on a connection already given up on, and were dropped unanswered. */
  readonly dropped: number;
  close(): Promise<void>;
}

async function rawKeepAliveServer(idleMs: number, mode: 'close' | 'drop-late' = 'close'): Promise<RawKeepAliveServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let requests = 0;
  let dropped = 0;
  const server: NetServer = createNetServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let idle: NodeJS.Timeout | null = null;
    let givenUp = false;
    const armIdle = (): void => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => {
        if (mode === 'close') socket.destroy();
        else givenUp = true;
      }, idleMs);
    };
    armIdle();
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      if (idle) clearTimeout(idle);
      if (givenUp) {
        dropped++;
        socket.destroy();
        return;
      }
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        const head = buffered.slice(0, end);
        const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const bodyLength = lengthMatch ? Number(lengthMatch[1]) : 0;
        if (buffered.length < end + 4 + bodyLength) break;
        buffered = buffered.slice(end + 4 + bodyLength);
        requests++;
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
      }
      armIdle();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  resources.addCloser(close);
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    get dropped() {
      return dropped;
    },
    close,
  };
}

describe('retries', () => {
  it('GET over a dead and a live target with retry attempts 1: 20 of 20 succeed; without retry some get 502', async () => {
    const live = await upstream();
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const gateway = await gatewayWith({
      upstreams: { mixed: { targets: [dead, live.url], passiveHealth: { consecutiveFailures: 0 } } },
      routes: [
        { id: 'with-retry', path: '/retry', upstream: 'mixed', retry: { attempts: 1 } },
        { id: 'without-retry', path: '/plain', upstream: 'mixed' },
      ],
    });

    const retried = await sequential(20, () => call(`${gateway.url}/retry`));
    expect(statusCounts(retried)).toEqual({ 200: 20 });
    expect(live.requests).toHaveLength(20);

    const plain = await sequential(20, () => call(`${gateway.url}/plain`));
    const counts = statusCounts(plain);
    console.log(`retries: without retry ${JSON.stringify(counts)}`);
    expect(count(counts, 502)).toBeGreaterThan(0);
    expect(count(counts, 200)).toBeGreaterThan(0);
    expect(count(counts, 200) + count(counts, 502)).toBe(20);
    expectUnreachable(plain, 'without-retry');
  });

  it('POST is not retried: about half of 20 POSTs get 502, with or without a body', async () => {
    const live = await upstream();
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const gateway = await gatewayWith({
      upstreams: { mixed: { targets: [dead, live.url], passiveHealth: { consecutiveFailures: 0 } } },
      routes: [{ id: 'writes', path: '/writes', upstream: 'mixed', retry: { attempts: 2 } }],
    });

    const empty = await sequential(20, () => call(`${gateway.url}/writes`, { method: 'POST' }));
    const withBody = await sequential(20, (i) =>
      call(`${gateway.url}/writes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i }) }),
    );
    for (const responses of [empty, withBody]) {
      const counts = statusCounts(responses);
      console.log(`retries: POST ${JSON.stringify(counts)}`);
      expect(count(counts, 502)).toBeGreaterThanOrEqual(5);
      expect(count(counts, 502)).toBeLessThanOrEqual(15);
      expect(count(counts, 200) + count(counts, 502)).toBe(20);
      expectUnreachable(responses, 'writes');
    }
    // Every POST the upstream saw reached it once.
    expect(live.requests).toHaveLength([...empty, ...withBody].filter((r) => r.status === 200).length);
    // The same route still retries GET.
    expect(statusCounts(await sequential(10, () => call(`${gateway.url}/writes`)))).toEqual({ 200: 10 });
  });

  it('a target answering 503 is retried on the other target for GET, not for POST', async () => {
    const unavailable = await upstream((req, res) => {
      req.resume();
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('unavailable');
    });
    const live = await upstream();
    const gateway = await gatewayWith({
      upstreams: { flaky: { targets: [unavailable.url, live.url], passiveHealth: { consecutiveFailures: 0 } } },
      routes: [{ id: 'flaky', path: '/flaky', upstream: 'flaky', retry: { attempts: 1 } }],
    });

    const gets = await sequential(20, () => call(`${gateway.url}/flaky`));
    expect(statusCounts(gets)).toEqual({ 200: 20 });
    expect(gets.every((r) => r.headers['x-upstream'] === 'echo')).toBe(true);
    // The 503 target really was tried: the successes are retries, not luck.
    expect(unavailable.requests.length).toBeGreaterThanOrEqual(5);
    expect(live.requests).toHaveLength(20);

    const posts = await sequential(10, () => call(`${gateway.url}/flaky`, { method: 'POST' }));
    const counts = statusCounts(posts);
    expect(count(counts, 503)).toBeGreaterThan(0);
    // The upstream's own 503 passes through unchanged.
    for (const res of posts.filter((r) => r.status === 503)) expect(res.text).toBe('unavailable');
  });

  // Neither of the next two tests meets a stale socket, so neither proves the replay (the
  // drop-late test below does): they pin down why an ordinary idle close never costs a 502.

  it("stale keep-alive: a node:http upstream announcing Keep-Alive timeout=1 (inside undici's 2 s margin): a fresh connection for every request, no 502", async () => {
    const live = await upstream();
    live.server.keepAliveTimeout = 1000;
    let connections = 0;
    live.server.on('connection', () => connections++);
    // The premise: node:http announces its 1 s idle timeout. undici keeps a socket only for the
    // announced timeout minus 2 s, i.e. not at all, so no request can land on a socket the
    // upstream is closing, however long the client waits between requests.
    const probe = await rawExchange(live.port, 'GET /probe HTTP/1.1\r\nHost: upstream\r\n\r\n');
    expect(probe).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
    const probeConnections = connections;
    const gateway = await gatewayWith({
      upstreams: { idle: { targets: [live.url] } },
      routes: [{ id: 'idle', path: '/idle', upstream: 'idle' }],
    });

    // Back to back, well inside the upstream's idle timeout, and just past it.
    const gapsMs = [0, 300, 1050, 0, 300, 1050, 0, 300, 1050];
    const statuses: number[] = [];
    for (const gap of gapsMs) {
      await sleep(gap);
      statuses.push((await call(`${gateway.url}/idle`)).status);
    }
    const gatewayConnections = connections - probeConnections;
    console.log(`retries: node:http keep-alive: ${statuses.length} requests over ${gatewayConnections} upstream connections`);
    expect(statuses).toEqual(gapsMs.map(() => 200));
    expect(live.requests.filter((r) => r.url === '/idle')).toHaveLength(gapsMs.length);
    // Had the gateway reused sockets, the back-to-back requests would have shared them.
    expect(gatewayConnections).toBe(gapsMs.length);
  }, 30_000);

  it('stale keep-alive: a raw server closing idle sockets after 1 s without a Keep-Alive header: the gateway drops each closed socket while idle, a fresh connection per request, no 502', async () => {
    const raw = await rawKeepAliveServer(1000);
    const gateway = await gatewayWith({
      upstreams: { silent: { targets: [raw.url] } },
      routes: [{ id: 'silent', path: '/silent', upstream: 'silent' }],
    });

    // 1050 ms apart: the server has closed the previous connection (at 1000 ms) before each request.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      if (i > 0) await sleep(1050);
      statuses.push((await call(`${gateway.url}/silent`)).status);
    }
    console.log(`retries: raw keep-alive: ${statuses.length} requests, ${raw.requests} reached the server over ${raw.connections} connections`);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(raw.requests).toBe(6);
    // The server really closed its idle connections: every request needed a new one.
    expect(raw.connections).toBe(6);
  }, 30_000);

  it('a GET that meets a keep-alive socket the upstream already gave up on is replayed once on a fresh one', async () => {
    const raw = await rawKeepAliveServer(1000, 'drop-late');
    const gateway = await gatewayWith({
      upstreams: { forgetful: { targets: [raw.url] } },
      routes: [{ id: 'forgetful', path: '/forgetful', upstream: 'forgetful' }],
    });

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(1050);
      statuses.push((await call(`${gateway.url}/forgetful`)).status);
    }
    console.log(`retries: drop-late: ${raw.dropped} requests dropped on stale sockets, ${raw.connections} connections`);
    expect(statuses).toEqual([200, 200, 200]);
    // The second and third requests each met the socket the server had given up on (1050 ms
    // idle > 1000 ms) and were dropped there; the gateway sent each again on a new connection.
    expect(raw.dropped).toBe(2);
    expect(raw.requests).toBe(3);
    expect(raw.connections).toBe(3);
  }, 30_000);
});
