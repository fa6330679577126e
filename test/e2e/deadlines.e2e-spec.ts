import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { request as undiciRequest } from 'undici';
import { PermitRegistry } from '../../src/concurrency/permit-registry.service';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { call, type ParsedResponse } from '../support/http';
import { testResources } from '../support/test-resources';
import { waitFor } from '../support/wait-for';

/*
 * docs/configuration.md "Config file reference" `timeoutMs` / `defaults.timeoutMs` / `connectTimeoutMs`, "Proxying and headers" (a client that
 * disconnects cancels its upstream request at once), "Errors and status codes" (504 upstream_timeout, 502).
 */

const resources = testResources();
const { gatewayWith } = resources;

/**
 * How long the slow upstream takes to answer when a test expects the gateway to give up first.
 * Deadlines are checked against the documented behaviour, not a stopwatch: the gateway's answer comes after
 * the deadline and well before the upstream (or a longer timer) would have answered, i.e. in
 * the first half of that time, which leaves seconds of slack on a loaded machine.
 */
const SLOW_UPSTREAM_MS = 5000;

/** `ms` is at least `deadlineMs` and well before `otherwiseMs`, when something else would have answered. */
function expectOnTime(ms: number, deadlineMs: number, otherwiseMs: number): void {
  expect(ms).toBeGreaterThanOrEqual(deadlineMs);
  expect(ms).toBeLessThan(otherwiseMs / 2);
}

interface SeenRequest {
  url: string;
  arrivedAt: number;
  /** When the upstream's response closed (answered, or the connection went away); null while open. */
  closedAt: number | null;
  /** Whether the upstream had finished its answer when the response closed. */
  answered: boolean;
}

interface SlowUpstream {
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Resolves when `predicate` holds (checked on every arrival and close), rejects after timeoutMs. */
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/**
 * A node:http upstream: `delay=<ms>` answers 200 after that long; `stream=<ms>` sends headers at
 * once and the body over <ms>; otherwise 200 at once. Records when each request arrived and when
 * its response closed, and whether it had been answered by then.
 */
async function slowUpstream(): Promise<SlowUpstream> {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const seen: SeenRequest[] = [];
  const fixture = await resources.upstream((req, res) => {
    const record: SeenRequest = { url: req.url ?? '', arrivedAt: performance.now(), closedAt: null, answered: false };
    seen.push(record);
    const timers: NodeJS.Timeout[] = [];
    res.once('close', () => {
      for (const timer of timers) clearTimeout(timer);
      record.closedAt = performance.now();
      record.answered = res.writableFinished;
      events.emit('change');
    });
    req.resume();
    const query = new URL(req.url ?? '/', 'http://upstream').searchParams;
    const delay = Number(query.get('delay') ?? 0);
    const stream = Number(query.get('stream') ?? 0);
    if (stream > 0) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      timers.push(setTimeout(() => res.write('second;'), stream / 2));
      timers.push(setTimeout(() => res.end('last'), stream));
    } else {
      timers.push(
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('answered');
        }, delay),
      );
    }
    events.emit('change');
  });
  return {
    url: fixture.url,
    seen,
    until: (predicate, what, timeoutMs = 5_000) => waitFor(events, predicate, what, timeoutMs),
  };
}

interface Timed extends ParsedResponse {
  ms: number;
  startedAt: number;
}

async function timedCall(url: string): Promise<Timed> {
  const startedAt = performance.now();
  const res = await call(url);
  const ms = performance.now() - startedAt;
  return { status: res.status, headers: res.headers, text: res.text, ms, startedAt };
}

/**
 * A loopback port whose TCP handshakes never complete: a listener (backlog 1) in a worker thread
 * whose event loop is blocked, so nothing is ever accepted; two filler connections fill the accept
 * queue and the kernel then drops every further SYN, so a connect hangs until the client gives up.
 */
interface HangingPort {
  readonly port: number;
  close(): Promise<void>;
}

const HANGING_LISTENER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const server = net.createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(new Int32Array(workerData), 0, 0, 60000);
  server.close();
});
`;

async function hangingPort(): Promise<HangingPort> {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(HANGING_LISTENER, { eval: true, workerData: flag });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const sockets: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    Atomics.store(new Int32Array(flag), 0, 1);
    Atomics.notify(new Int32Array(flag), 0);
    await exited;
  };
  resources.addCloser(close);
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (value: number) => resolve(value));
    worker.once('error', reject);
  });
  const open = (): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => resolve(false));
      socket.once('connect', () => resolve(true));
      setTimeout(() => resolve(false), 400);
    });
  // Fill the accept queue (backlog 1 holds 2 handshakes), then check that a further connect hangs.
  await Promise.all([open(), open()]);
  if (await open()) throw new Error('could not make a loopback connect hang (the accept queue did not fill)');
  return { port, close };
}

describe('deadlines: timeoutMs, defaults.timeoutMs, connectTimeoutMs and client aborts', () => {
  it('timeoutMs 300 against a 5000 ms upstream: 504 upstream_timeout after 300 ms, well before the upstream would answer, and the upstream request is aborted', async () => {
    const upstream = await slowUpstream();
    const gateway = await gatewayWith({
      upstreams: { slow: { targets: [upstream.url] } },
      routes: [{ id: 'deadline', path: '/deadline', upstream: 'slow', timeoutMs: 300 }],
    });

    const res = await timedCall(`${gateway.url}/deadline?delay=${SLOW_UPSTREAM_MS}`);
    console.log(`deadlines: 504 after ${res.ms.toFixed(0)} ms`);
    expectGatewayError(res, 504, 'upstream_timeout', 'deadline');
    expectOnTime(res.ms, 300, SLOW_UPSTREAM_MS);

    expect(upstream.seen).toHaveLength(1);
    await upstream.until(() => upstream.seen[0].closedAt !== null, 'the upstream to see its request closed', SLOW_UPSTREAM_MS);
    const seen = upstream.seen[0];
    // Closed unanswered, well before the upstream would have answered it.
    expect(seen.answered).toBe(false);
    expect(seen.closedAt! - res.startedAt).toBeLessThan(SLOW_UPSTREAM_MS / 2);
    console.log(`deadlines: upstream saw the abort ${(seen.closedAt! - res.startedAt).toFixed(0)} ms after the request started`);
  });

  it('defaults.timeoutMs applies to a route without its own; a route with its own timeoutMs keeps it', async () => {
    const upstream = await slowUpstream();
    const gateway = await gatewayWith({
      defaults: { timeoutMs: 300 },
      upstreams: { slow: { targets: [upstream.url] } },
      routes: [
        { id: 'inherits', path: '/inherits', upstream: 'slow' },
        { id: 'own', path: '/own', upstream: 'slow', timeoutMs: 3000 },
      ],
    });

    const inherited = await timedCall(`${gateway.url}/inherits?delay=${SLOW_UPSTREAM_MS}`);
    expectGatewayError(inherited, 504, 'upstream_timeout', 'inherits');
    expectOnTime(inherited.ms, 300, SLOW_UPSTREAM_MS);

    const own = await timedCall(`${gateway.url}/own?delay=1000`);
    expect(own.status).toBe(200);
    expect(own.text).toBe('answered');
    expect(own.ms).toBeGreaterThanOrEqual(1000);
  });

  it('a response that starts within timeoutMs is not affected, even when its body takes longer', async () => {
    const upstream = await slowUpstream();
    const gateway = await gatewayWith({
      upstreams: { quick: { targets: [upstream.url] } },
      routes: [{ id: 'quick', path: '/quick', upstream: 'quick', timeoutMs: 600 }],
    });

    const immediate = await timedCall(`${gateway.url}/quick`);
    expect(immediate.status).toBe(200);
    expect(immediate.text).toBe('answered');

    const justInTime = await timedCall(`${gateway.url}/quick?delay=100`);
    expect(justInTime.status).toBe(200);

    // Headers at once, the body over 1500 ms: the deadline covers the response headers only.
    const streamed = await timedCall(`${gateway.url}/quick?stream=1500`);
    expect(streamed.status).toBe(200);
    expect(streamed.text).toBe('first;second;last');
    expect(streamed.ms).toBeGreaterThanOrEqual(1400);

    // Many quick requests one after another, over well more than timeoutMs in all: the
    // deadlines of finished requests never fire on later ones.
    const statuses: number[] = [];
    const started = performance.now();
    while (performance.now() - started < 1500) statuses.push((await timedCall(`${gateway.url}/quick?delay=40`)).status);
    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  it('connectTimeoutMs is separate from timeoutMs: a hanging connect gives 502 after connectTimeoutMs, well before timeoutMs', async () => {
    const hanging = await hangingPort();
    const routeTimeoutMs = 10_000;
    const gateway = await gatewayWith({
      upstreams: { 'connect-short': { targets: [`http://127.0.0.1:${hanging.port}`], connectTimeoutMs: 300 } },
      routes: [{ id: 'connect-timeout', path: '/connect', upstream: 'connect-short', timeoutMs: routeTimeoutMs }],
    });

    const refused = await timedCall(`${gateway.url}/connect`);
    console.log(`deadlines: connect timeout 502 after ${refused.ms.toFixed(0)} ms`);
    // 502, not the route's 504: the connect timeout fired first.
    expectGatewayError(refused, 502, 'upstream_unreachable', 'connect-timeout');
    // undici's connect timer has a ~0.5-1 s resolution; the route's deadline is far off either way.
    expectOnTime(refused.ms, 250, routeTimeoutMs);
  });

  it('the route deadline still runs while the connect hangs: 504 after timeoutMs, not after connectTimeoutMs', async () => {
    const hanging = await hangingPort();
    const gateway = await gatewayWith({
      upstreams: { 'connect-long': { targets: [`http://127.0.0.1:${hanging.port}`], connectTimeoutMs: 5000 } },
      routes: [{ id: 'route-deadline', path: '/deadline', upstream: 'connect-long', timeoutMs: 300 }],
    });

    const timedOut = await timedCall(`${gateway.url}/deadline`);
    console.log(`deadlines: 504 while connecting after ${timedOut.ms.toFixed(0)} ms`);
    // 504, not the 502 of a connect timeout, and well before connectTimeoutMs.
    expectGatewayError(timedOut, 504, 'upstream_timeout', 'route-deadline');
    expectOnTime(timedOut.ms, 300, 5000);
  });

  it('timeoutMs also covers the wait for a pooled connection: 504 on time when every socket of the pool is busy', async () => {
    const upstream = await slowUpstream();
    const gateway = await gatewayWith({
      upstreams: { narrow: { targets: [upstream.url], pool: { maxSockets: 1 } } },
      routes: [
        { id: 'long', path: '/long', upstream: 'narrow', timeoutMs: 5000 },
        { id: 'short', path: '/short', upstream: 'narrow', timeoutMs: 300 },
      ],
    });

    // Takes the pool's only socket for 3 s.
    const occupyingMs = 3000;
    const occupying = timedCall(`${gateway.url}/long?delay=${occupyingMs}`);
    await upstream.until(() => upstream.seen.length === 1, 'the long request to reach the upstream');

    const waiting = await timedCall(`${gateway.url}/short`);
    const socketStillBusy = upstream.seen[0].closedAt === null;
    console.log(`deadlines: 504 while waiting for a pooled socket after ${waiting.ms.toFixed(0)} ms`);
    expectGatewayError(waiting, 504, 'upstream_timeout', 'short');
    // On time: while the only socket was still taken, not once it came free.
    expect(socketStillBusy).toBe(true);
    expectOnTime(waiting.ms, 300, occupyingMs);
    expect((await occupying).status).toBe(200);
  });

  it('a client that disconnects while the upstream is slow makes the upstream see the abort, and frees the permit', async () => {
    const upstream = await slowUpstream();
    const gateway = await gatewayWith({
      upstreams: { slow: { targets: [upstream.url] } },
      routes: [{ id: 'patient', path: '/patient', upstream: 'slow', timeoutMs: 10_000, concurrency: { limit: 1 } }],
    });
    const registry = gateway.app.get(PermitRegistry);

    const controller = new AbortController();
    const pending = undiciRequest(`${gateway.url}/patient?delay=${SLOW_UPSTREAM_MS}`, { signal: controller.signal }).then(
      () => 'answered',
      () => 'aborted',
    );
    await upstream.until(() => upstream.seen.length === 1, 'the request to reach the upstream');
    expect(registry.figures('route', 'patient').inFlight).toBe(1);
    const abortedAt = performance.now();
    controller.abort();
    expect(await pending).toBe('aborted');

    await upstream.until(() => upstream.seen[0].closedAt !== null, 'the upstream to see the abort', SLOW_UPSTREAM_MS);
    const seen = upstream.seen[0];
    expect(seen.answered).toBe(false);
    const propagation = seen.closedAt! - abortedAt;
    console.log(`deadlines: client abort reached the upstream after ${propagation.toFixed(1)} ms`);
    // Soon after the client left: well before the upstream would have answered.
    expect(propagation).toBeLessThan(SLOW_UPSTREAM_MS / 2);

    const deadline = performance.now() + 5_000;
    while (registry.figures('route', 'patient').inFlight !== 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(registry.figures('route', 'patient').inFlight).toBe(0);
    expect((await timedCall(`${gateway.url}/patient`)).status).toBe(200);
  });
});
