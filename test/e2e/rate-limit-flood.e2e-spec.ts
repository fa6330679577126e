import { resolve } from 'node:path';
import { Pool } from 'undici';
import { call } from '../support/http';
import { eventually, samplesOf } from '../support/metrics-text';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * The in-process rate-limit store under a flood of distinct client keys: it must stay bounded
 * while the flood lasts and give the memory back once the windows are over, or a client making
 * up new keys could grow the gateway without end.
 */

const DISTINCT_KEYS = 100_000;
/**
 * Longer than the flood takes to send 50,000 keys, so the cap is reached within one window: a
 * loaded 2-core CI machine has proxied as few as 2,200 requests a second here (50,000 keys in
 * 23 s), so the window leaves room for a flood three times slower than that.
 */
const WINDOW_MS = 60_000;

let upstream: UpstreamFixture;
let gateway: GatewayProcess;

beforeAll(async () => {
  upstream = await startUpstream((_req, res) => res.end('ok'));
  gateway = await startGatewayProcess({
    config: {
      upstreams: { app: { targets: [upstream.url] } },
      routes: [
        { id: 'flood', path: '/flood', upstream: 'app', rateLimit: { limit: 1, windowMs: WINDOW_MS, key: 'header:x-client' } },
        { id: 'warm', path: '/warm', upstream: 'app' },
      ],
    },
    env: { LOG_LEVEL: 'warn', NODE_OPTIONS: `--require ${resolve(__dirname, '../support/gc-on-signal.js')}` },
  });
});

afterAll(async () => {
  await gateway.kill();
  await upstream.close();
});

async function keysHeld(): Promise<number> {
  const found = samplesOf((await call(`${gateway.url}/_gateway/metrics`)).text, 'gateway_rate_limit_keys');
  if (found.length !== 1) throw new Error('gateway_rate_limit_keys is missing');
  return found[0].value;
}

/** Sends `count` GETs to `path` with distinct x-client values over 32 keep-alive connections; resolves with the status counts. */
async function flood(path: string, prefix: string, count: number): Promise<Record<number, number>> {
  const pool = new Pool(gateway.url, { connections: 32 });
  const statuses: Record<number, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const res = await pool.request({ path, method: 'GET', headers: { 'x-client': `${prefix}-${i}` } });
      await res.body.dump();
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  await pool.close();
  return statuses;
}

/**
 * The gateway's RSS right after full garbage collections (see gc-on-signal.js): what it really
 * holds; and the young generation's committed size then, which V8 grows and shrinks with the
 * allocation rate (on Node 24 by tens of MiB between two floods), whatever the store holds.
 */
async function rssAfterGc(): Promise<{ rss: number; young: number }> {
  const round = ++gcRounds;
  const done = new Promise<void>((resolveDone, rejectDone) => {
    const timer = setTimeout(() => rejectDone(new Error('the gateway did not report its garbage collection')), 10_000);
    const onData = (): void => {
      if (!gateway.stderr().includes(`gc-done ${round}\n`)) return;
      clearTimeout(timer);
      gateway.child.stderr!.off('data', onData);
      resolveDone();
    };
    gateway.child.stderr!.on('data', onData);
  });
  gateway.child.kill('SIGUSR2');
  await done;
  // V8 hands freed pages back to the OS from a background thread: read RSS once it stops falling.
  let rss = gateway.rssBytes();
  for (let steady = 0, i = 0; steady < 3 && i < 30; i++) {
    await new Promise((resolveTick) => setTimeout(resolveTick, 100));
    const now = gateway.rssBytes();
    steady = now >= rss - 2 ** 18 ? steady + 1 : 0;
    rss = Math.min(rss, now);
  }
  const young = new RegExp(`^gc-stats ${round} .*\\byoung=(\\d+)`, 'm').exec(gateway.stderr());
  if (young === null) throw new Error(`no "gc-stats ${round}" line on the gateway's stderr`);
  return { rss, young: Number(young[1]) };
}

/** The gateway's V8 heap in use, from its own metrics (read right after rssAfterGc, it is what is held). */
async function heapUsed(): Promise<number> {
  const found = samplesOf((await call(`${gateway.url}/_gateway/metrics`)).text, 'nodejs_heap_size_used_bytes');
  if (found.length !== 1) throw new Error('nodejs_heap_size_used_bytes is missing');
  return found[0].value;
}
let gcRounds = 0;

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

describe('the memory rate-limit store under 100,000 distinct client keys', () => {
  it('holds no more than its cap of 50,000 windows, which cost under 50 MiB of RSS, and sweeps every window out after it ends', async () => {
    // The same 100,000 requests on a route without a limit first, so the baseline holds what
    // proxying them costs by itself (compiled code, pools, the heap at its working size).
    expect(await flood('/warm', 'warm', DISTINCT_KEYS)).toEqual({ 200: DISTINCT_KEYS });
    const baseline = { ...(await rssAfterGc()), heap: await heapUsed() };

    const statuses = await flood('/flood', 'client', DISTINCT_KEYS);

    // Each key was new: every request passed (limit 1 per key).
    expect(statuses).toEqual({ 200: DISTINCT_KEYS });
    // More keys arrived within one window than the cap: the oldest windows made room.
    expect(await keysHeld()).toBe(50_000);
    const holding = { ...(await rssAfterGc()), heap: await heapUsed() };
    const youngGrowth = Math.max(0, holding.young - baseline.young);
    console.log(
      `rate-limit flood, holding 50,000 windows: RSS after GC ${mib(baseline.rss)} -> ${mib(holding.rss)} MiB (+${mib(holding.rss - baseline.rss)}, ` +
        `of which the young generation's growth ${mib(youngGrowth)}), V8 heap in use ${mib(baseline.heap)} -> ${mib(holding.heap)} MiB (+${mib(holding.heap - baseline.heap)})`,
    );
    expect((holding.rss - baseline.rss - youngGrowth) / 2 ** 20).toBeLessThan(50);
    // What the windows themselves hold: about 0.2 KB each.
    expect((holding.heap - baseline.heap) / 2 ** 20).toBeLessThan(25);

    // Once the windows are over, the sweep gives everything back.
    await eventually(async () => (await keysHeld()) === 0, 'every window swept out', WINDOW_MS + 10_000, 250);
  }, 300_000);
});
