import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { request as undiciRequest } from 'undici';
import { PermitRegistry, type PermitScope } from '../../src/concurrency/permit-registry.service';
import { call } from '../support/http';
import { testResources } from '../support/test-resources';
import { closedPort, startUpstream, type UpstreamFixture } from '../support/upstream-fixture';
import { waitFor } from '../support/wait-for';

/*
 * docs/configuration.md "Config file reference" `concurrency` (route and upstream bulkheads), "Proxying and headers" (a client that disconnects gives
 * back every permit; a slow upstream never delays another), "Errors and status codes" (429 concurrency_limit /
 * queue_timeout with Retry-After).
 */

/** How long a held upstream request waits for release() at most: far longer than any test needs. */
const HELD_MS = 20_000;
/** How long a test waits for a state it expects (well under HELD_MS, so held requests are still held). */
const WAIT_MS = 10_000;

/** Every server and gateway a test starts; closed in afterAll (upstreams first, so held requests end). */
const resources = testResources();
const { gatewayWith } = resources;

/** Fired on every upstream arrival or close and every answered call, so tests await states, not time. */
const changes = new EventEmitter();
changes.setMaxListeners(0);

/**
 * A real node:http upstream whose behaviour each request picks in its query string:
 * `hold=<ms>` answers when the test calls release() (or after <ms> at the latest),
 * `delay=<ms>` answers after a fixed delay, `reset` resets the socket (RST), otherwise 200 at once.
 * It tracks how many requests it is handling at once (from arrival to the response's 'close').
 */
interface ControlledUpstream {
  readonly url: string;
  readonly fixture: UpstreamFixture;
  /** Requests received so far. */
  readonly arrivals: number;
  readonly active: number;
  readonly maxActive: number;
  /** Answers every held request now. */
  release(): void;
  /** Resolves when `predicate` holds (checked on every upstream event), rejects after timeoutMs. */
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  resetStats(): void;
}

async function controlledUpstream(): Promise<ControlledUpstream> {
  const events = changes;
  const held = new Set<() => void>();
  let arrivals = 0;
  let active = 0;
  let maxActive = 0;
  const fixture = await startUpstream((req, res) => {
    arrivals++;
    active++;
    maxActive = Math.max(maxActive, active);
    let timer: NodeJS.Timeout | null = null;
    const answer = (): void => {
      if (timer) clearTimeout(timer);
      held.delete(answer);
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    };
    res.once('close', () => {
      active--;
      if (timer) clearTimeout(timer);
      held.delete(answer);
      events.emit('change');
    });
    req.resume();
    const query = new URL(req.url ?? '/', 'http://upstream').searchParams;
    if (query.has('reset')) {
      req.socket.resetAndDestroy();
    } else if (query.has('hold')) {
      held.add(answer);
      timer = setTimeout(answer, Number(query.get('hold')) || 10_000);
    } else if (query.has('delay')) {
      timer = setTimeout(answer, Number(query.get('delay')));
    } else {
      answer();
    }
    events.emit('change');
  });
  const upstream: ControlledUpstream = {
    url: fixture.url,
    fixture,
    get arrivals() {
      return arrivals;
    },
    get active() {
      return active;
    },
    get maxActive() {
      return maxActive;
    },
    release: () => {
      for (const answer of [...held]) answer();
    },
    until: (predicate, what, timeoutMs = 5_000) => waitFor(events, predicate, what, timeoutMs),
    resetStats: () => {
      arrivals = 0;
      maxActive = active;
    },
  };
  resources.addCloser(async () => {
    upstream.release();
    await fixture.close();
  });
  return upstream;
}

interface Outcome {
  status: number;
  /** The gateway error code when the answer is a gateway JSON error, else null. */
  code: string | null;
  route: string | null;
  retryAfter: string | null;
  /** This request's own latency, from send to the last byte of the body. */
  ms: number;
}

async function timedCall(url: string): Promise<Outcome> {
  const start = performance.now();
  const res = await call(url);
  const ms = performance.now() - start;
  const contentType = String(res.headers['content-type'] ?? '');
  let code: string | null = null;
  let route: string | null = null;
  if (contentType.startsWith('application/json')) {
    const body = res.json<{ statusCode?: number; code?: string; route?: string }>();
    expect(body.statusCode).toBe(res.status);
    code = body.code ?? null;
    route = body.route ?? null;
  }
  const retryAfter = res.headers['retry-after'];
  return { status: res.status, code, route, retryAfter: typeof retryAfter === 'string' ? retryAfter : null, ms };
}

/** Starts a call and counts it as settled when it answers. */
function tracked(calls: Array<{ done: boolean; promise: Promise<Outcome> }>, url: string): void {
  const state = { done: false };
  const promise = timedCall(url).then((outcome) => {
    state.done = true;
    changes.emit('change');
    return outcome;
  });
  calls.push(Object.assign(state, { promise }));
}

function settledCount(calls: Array<{ done: boolean }>): number {
  return calls.filter((c) => c.done).length;
}

/** Runs `count` jobs with at most `width` in flight at once. */
async function runBounded<T>(count: number, width: number, job: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      results[index] = await job(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return results;
}

/** A GET the client itself aborts after `afterMs`; 'aborted' unless the gateway answered first. */
async function abortedGet(url: string, afterMs: number): Promise<number | 'aborted'> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), afterMs);
  try {
    const res = await undiciRequest(url, { signal: controller.signal });
    await res.body.text();
    return res.statusCode;
  } catch (error) {
    if (controller.signal.aborted) return 'aborted';
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function figuresSettle(
  registry: PermitRegistry,
  pools: ReadonlyArray<readonly [PermitScope, string]>,
  timeoutMs = 5_000,
): Promise<Record<string, { inFlight: number; queued: number }>> {
  const read = (): Record<string, { inFlight: number; queued: number }> =>
    Object.fromEntries(
      pools.map(([scope, name]) => {
        const { inFlight, queued } = registry.figures(scope, name);
        return [`${scope}:${name}`, { inFlight, queued }];
      }),
    );
  const deadline = performance.now() + timeoutMs;
  let figures = read();
  while (Object.values(figures).some((f) => f.inFlight !== 0 || f.queued !== 0) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    figures = read();
  }
  return figures;
}

function expectFastRejection(outcome: Outcome, code: 'concurrency_limit' | 'queue_timeout', route: string): void {
  expect(outcome.status).toBe(429);
  expect(outcome.code).toBe(code);
  expect(outcome.route).toBe(route);
  expect(outcome.retryAfter).toMatch(/^\d+$/);
}

describe('bulkheads: route and upstream concurrency limits', () => {
  it('route limit 5, no queue: the upstream never sees more than 5; the other 15 get 429 concurrency_limit at once, while the 5 are held', async () => {
    const upstream = await controlledUpstream();
    const gateway = await gatewayWith({
      upstreams: { slow: { targets: [upstream.url] } },
      routes: [{ id: 'limited', path: '/limited', upstream: 'slow', concurrency: { limit: 5 } }],
    });
    const registry = gateway.app.get(PermitRegistry);

    // Held until released: only then can an admitted request finish, so every answer that comes
    // back before release() was given without waiting for a permit.
    const calls: Array<{ done: boolean; promise: Promise<Outcome> }> = [];
    for (let i = 0; i < 20; i++) tracked(calls, `${gateway.url}/limited?hold=${HELD_MS}`);
    await waitFor(changes, () => settledCount(calls) >= 15 && upstream.arrivals >= 5, '15 rejections while 5 requests are held', WAIT_MS);
    const whileHeld = registry.figures('route', 'limited');
    const activeWhileHeld = upstream.active;
    const settledWhileHeld = settledCount(calls);
    upstream.release();
    const outcomes = await Promise.all(calls.map((c) => c.promise));

    expect(whileHeld).toMatchObject({ inFlight: 5, queued: 0, limit: 5 });
    expect(activeWhileHeld).toBe(5);
    expect(settledWhileHeld).toBe(15);
    expect(upstream.maxActive).toBe(5);
    expect(upstream.arrivals).toBe(5);
    const served = outcomes.filter((o) => o.status === 200);
    const rejected = outcomes.filter((o) => o.status !== 200);
    expect(served).toHaveLength(5);
    expect(rejected).toHaveLength(15);
    for (const outcome of rejected) expectFastRejection(outcome, 'concurrency_limit', 'limited');
    console.log(
      `bulkheads: concurrency_limit rejections answered in ${Math.round(Math.min(...rejected.map((o) => o.ms)))}-${Math.round(Math.max(...rejected.map((o) => o.ms)))} ms`,
    );
    expect(await figuresSettle(registry, [['route', 'limited']])).toEqual({ 'route:limited': { inFlight: 0, queued: 0 } });
  });

  it('limit 2, queue 3, queueTimeoutMs 1000: 2 served, 3 get queue_timeout after queueTimeoutMs while the 2 are held, 5 get concurrency_limit without waiting out the queue', async () => {
    const queueTimeoutMs = 1000;
    const upstream = await controlledUpstream();
    const gateway = await gatewayWith({
      upstreams: { slow: { targets: [upstream.url] } },
      routes: [{ id: 'queued', path: '/queued', upstream: 'slow', concurrency: { limit: 2, queue: 3, queueTimeoutMs } }],
    });

    const calls: Array<{ done: boolean; promise: Promise<Outcome> }> = [];
    for (let i = 0; i < 10; i++) tracked(calls, `${gateway.url}/queued?hold=${HELD_MS}`);
    // The 8 refusals come back while the 2 admitted requests are still held by the upstream.
    await waitFor(changes, () => settledCount(calls) >= 8 && upstream.arrivals >= 2, '8 rejections while 2 requests are held', WAIT_MS);
    const activeWhileHeld = upstream.active;
    const settledWhileHeld = settledCount(calls);
    upstream.release();
    const outcomes = await Promise.all(calls.map((c) => c.promise));

    expect(activeWhileHeld).toBe(2);
    expect(settledWhileHeld).toBe(8);
    const served = outcomes.filter((o) => o.status === 200);
    const timedOut = outcomes.filter((o) => o.code === 'queue_timeout');
    const refused = outcomes.filter((o) => o.code === 'concurrency_limit');
    expect(served).toHaveLength(2);
    expect(timedOut).toHaveLength(3);
    expect(refused).toHaveLength(5);
    expect(upstream.arrivals).toBe(2);
    for (const outcome of timedOut) {
      expectFastRejection(outcome, 'queue_timeout', 'queued');
      // Not before its queue timeout (less a little for timer granularity).
      expect(outcome.ms).toBeGreaterThanOrEqual(queueTimeoutMs - 10);
    }
    for (const outcome of refused) {
      expectFastRejection(outcome, 'concurrency_limit', 'queued');
      // Refused on arrival: it did not sit out a queue timeout first.
      expect(outcome.ms).toBeLessThan(queueTimeoutMs);
    }
    console.log(
      `bulkheads: queue_timeout after ${timedOut.map((o) => Math.round(o.ms)).join('/')} ms; ` +
        `concurrency_limit after ${Math.round(Math.max(...refused.map((o) => o.ms)))} ms at most`,
    );
  });

  it('an upstream-level limit is shared by every route to it: it bounds the sum', async () => {
    const upstream = await controlledUpstream();
    const gateway = await gatewayWith({
      upstreams: { shared: { targets: [upstream.url], concurrency: { limit: 4 } } },
      routes: [
        { id: 'shared-a', path: '/a', upstream: 'shared' },
        { id: 'shared-b', path: '/b', upstream: 'shared' },
      ],
    });
    const registry = gateway.app.get(PermitRegistry);

    const first = [timedCall(`${gateway.url}/a?hold=10000`), timedCall(`${gateway.url}/a?hold=10000`)];
    await upstream.until(() => upstream.arrivals === 2, 'two requests of route a');
    first.push(timedCall(`${gateway.url}/b?hold=10000`), timedCall(`${gateway.url}/b?hold=10000`));
    await upstream.until(() => upstream.arrivals === 4, 'two requests of route b');
    expect(registry.figures('upstream', 'shared')).toMatchObject({ inFlight: 4, queued: 0, limit: 4 });

    // Each route has only 2 in flight, yet both are refused: the upstream's 4 permits are taken.
    const [extraA, extraB] = await Promise.all([timedCall(`${gateway.url}/a`), timedCall(`${gateway.url}/b`)]);
    expectFastRejection(extraA, 'concurrency_limit', 'shared-a');
    expectFastRejection(extraB, 'concurrency_limit', 'shared-b');
    expect(upstream.arrivals).toBe(4);

    upstream.release();
    expect((await Promise.all(first)).map((o) => o.status)).toEqual([200, 200, 200, 200]);
    expect(upstream.maxActive).toBe(4);
    expect(await figuresSettle(registry, [['upstream', 'shared']])).toEqual({ 'upstream:shared': { inFlight: 0, queued: 0 } });
    expect((await timedCall(`${gateway.url}/b`)).status).toBe(200);
  });

  it('500 mixed requests (client aborts, timeouts, resets, 502s, successes) leave every permit returned', async () => {
    const fast = await controlledUpstream();
    const slow = await controlledUpstream();
    const resetting = await controlledUpstream();
    const deadPort = await closedPort();
    const gateway = await gatewayWith({
      upstreams: {
        fast: { targets: [fast.url], concurrency: { limit: 10, queue: 10, queueTimeoutMs: 500 } },
        slow: { targets: [slow.url], concurrency: { limit: 15, queue: 10, queueTimeoutMs: 300 } },
        // Failing targets stay in rotation (no passive ejection): the mix must keep its 502s.
        resetting: { targets: [resetting.url], concurrency: { limit: 10 }, passiveHealth: { consecutiveFailures: 0 } },
        dead: { targets: [`http://127.0.0.1:${deadPort}`], concurrency: { limit: 10 }, passiveHealth: { consecutiveFailures: 0 } },
      },
      routes: [
        { id: 'ok', path: '/ok', upstream: 'fast', concurrency: { limit: 10, queue: 10, queueTimeoutMs: 500 } },
        { id: 'abort', path: '/abort', upstream: 'slow', timeoutMs: 5000, concurrency: { limit: 8, queue: 8, queueTimeoutMs: 1000 } },
        { id: 'timeout', path: '/timeout', upstream: 'slow', timeoutMs: 150, concurrency: { limit: 8, queue: 4, queueTimeoutMs: 200 } },
        { id: 'reset', path: '/reset', upstream: 'resetting', concurrency: { limit: 5, queue: 5, queueTimeoutMs: 300 } },
        { id: 'dead', path: '/dead', upstream: 'dead', concurrency: { limit: 5 } },
      ],
    });
    const registry = gateway.app.get(PermitRegistry);
    const pools: Array<readonly [PermitScope, string]> = [
      ['route', 'ok'],
      ['route', 'abort'],
      ['route', 'timeout'],
      ['route', 'reset'],
      ['route', 'dead'],
      ['upstream', 'fast'],
      ['upstream', 'slow'],
      ['upstream', 'resetting'],
      ['upstream', 'dead'],
    ];

    const kinds = ['ok', 'abort', 'timeout', 'reset', 'dead'] as const;
    type Kind = (typeof kinds)[number];
    const results = await runBounded(500, 50, async (i): Promise<{ kind: Kind; result: number | 'aborted' }> => {
      const kind = kinds[i % kinds.length];
      switch (kind) {
        case 'ok':
          return { kind, result: (await timedCall(`${gateway.url}/ok?delay=${i % 3}`)).status };
        case 'abort':
          return { kind, result: await abortedGet(`${gateway.url}/abort?delay=1000`, 20 + (i % 7) * 15) };
        case 'timeout':
          return { kind, result: (await timedCall(`${gateway.url}/timeout?delay=1000`)).status };
        case 'reset':
          return { kind, result: (await timedCall(`${gateway.url}/reset?reset`)).status };
        case 'dead':
          return { kind, result: (await timedCall(`${gateway.url}/dead`)).status };
      }
    });

    const tally: Record<string, number> = {};
    for (const { kind, result } of results) tally[`${kind}:${result}`] = (tally[`${kind}:${result}`] ?? 0) + 1;
    console.log(`bulkheads: burst outcomes ${JSON.stringify(tally)}`);
    const allowed: Record<Kind, ReadonlyArray<number | 'aborted'>> = {
      ok: [200, 429],
      abort: ['aborted', 429],
      timeout: [504, 429],
      reset: [502, 429],
      dead: [502, 429],
    };
    expect(results).toHaveLength(500);
    for (const { kind, result } of results) expect(allowed[kind]).toContain(result);
    // Every failure mode really happened.
    expect(tally['ok:200']).toBeGreaterThan(0);
    expect(tally['abort:aborted']).toBeGreaterThan(0);
    expect(tally['timeout:504']).toBeGreaterThan(0);
    expect(tally['reset:502']).toBeGreaterThan(0);
    expect(tally['dead:502']).toBeGreaterThan(0);

    // Permits are released on the response's 'close'; give that a bounded moment.
    const figures = await figuresSettle(registry, pools);
    expect(figures).toEqual(Object.fromEntries(pools.map(([scope, name]) => [`${scope}:${name}`, { inFlight: 0, queued: 0 }])));

    // Every permit is usable again: `limit` requests held at the same time all get through.
    fast.resetStats();
    slow.resetStats();
    const okCalls = Array.from({ length: 10 }, () => timedCall(`${gateway.url}/ok?hold=5000`));
    const abortCalls = Array.from({ length: 8 }, () => timedCall(`${gateway.url}/abort?hold=4000`));
    await Promise.all([
      fast.until(() => fast.arrivals === 10, '10 concurrent requests on route ok').catch(() => undefined),
      slow.until(() => slow.arrivals === 8, '8 concurrent requests on route abort').catch(() => undefined),
    ]);
    expect(registry.figures('route', 'ok')).toMatchObject({ inFlight: 10, queued: 0 });
    expect(registry.figures('route', 'abort')).toMatchObject({ inFlight: 8, queued: 0 });
    fast.release();
    slow.release();
    const after = await Promise.all([...okCalls, ...abortCalls]);
    expect(after.map((o) => o.status)).toEqual(new Array<number>(18).fill(200));
  }, 60_000);

  it('a saturated route does not slow another route to a different upstream', async () => {
    const held = await controlledUpstream();
    const quick = await controlledUpstream();
    const gateway = await gatewayWith({
      upstreams: { held: { targets: [held.url] }, quick: { targets: [quick.url] } },
      routes: [
        { id: 'route-a', path: '/a', upstream: 'held', concurrency: { limit: 20 } },
        { id: 'route-b', path: '/b', upstream: 'quick' },
      ],
    });
    const registry = gateway.app.get(PermitRegistry);

    /** 100 sequential calls on route b: their statuses and latencies (sorted). */
    const measureRouteB = async (): Promise<{ statuses: number[]; sorted: number[] }> => {
      const statuses: number[] = [];
      const latencies: number[] = [];
      for (let i = 0; i < 100; i++) {
        const outcome = await timedCall(`${gateway.url}/b`);
        statuses.push(outcome.status);
        latencies.push(outcome.ms);
      }
      return { statuses, sorted: latencies.sort((x, y) => x - y) };
    };

    // Baseline: route b on its own, after a warm-up (first connections, lazy initialisation).
    await measureRouteB();
    const baseline = await measureRouteB();

    // Held until released (HELD_MS at the latest), so all 20 permits stay taken for the whole run on route b.
    const saturating = Array.from({ length: 20 }, () => timedCall(`${gateway.url}/a?hold=${HELD_MS}`));
    await held.until(() => held.arrivals === 20, 'route a to hold all 20 permits');
    expect(registry.figures('route', 'route-a')).toMatchObject({ inFlight: 20, limit: 20 });
    const saturated = await measureRouteB();
    const stillHeld = registry.figures('route', 'route-a').inFlight;
    const stillActive = held.active;
    held.release();

    expect(stillHeld).toBe(20);
    expect(stillActive).toBe(20);
    expect(baseline.statuses).toEqual(new Array<number>(100).fill(200));
    expect(saturated.statuses).toEqual(new Array<number>(100).fill(200));
    const p50 = (sorted: number[]): number => sorted[49];
    const p90 = (sorted: number[]): number => sorted[89];
    console.log(
      `bulkheads: route b p50/p90 ${p50(baseline.sorted).toFixed(1)}/${p90(baseline.sorted).toFixed(1)} ms alone, ` +
        `${p50(saturated.sorted).toFixed(1)}/${p90(saturated.sorted).toFixed(1)} ms while route a held ${stillHeld} permits`,
    );
    // Compared with the baseline measured just before, on the same (possibly loaded) machine: a
    // gateway that made route b wait behind route a would take seconds (route a is held), not a
    // few times the baseline.
    expect(p50(saturated.sorted)).toBeLessThan(3 * p50(baseline.sorted) + 10);
    expect(p90(saturated.sorted)).toBeLessThan(3 * p90(baseline.sorted) + 20);
    expect((await Promise.all(saturating)).map((o) => o.status)).toEqual(new Array<number>(20).fill(200));
  });
});
