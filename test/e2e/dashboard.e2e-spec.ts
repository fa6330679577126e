/// <reference lib="dom" />
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { Pool } from 'undici';
import { launchChromium } from '../support/chromium';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { holdingUpstream, type Arrival } from '../support/holding-upstream';
import { call } from '../support/http';
import { echoHandler, startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/operations.md "Dashboard", in a real browser (Debian's Chromium, driven by playwright-core): the token
 * prompt, the tables of every route and upstream, figures that follow the traffic, full permits
 * and a queue, a target going down; no console error and no request off the gateway's origin.
 */

const TOKEN = 'dashboard-token-0123456789abcdef';
const HEALTH_INTERVAL_MS = 500;
const SLOW_LIMIT = 3;

let browser: Browser;
let gateway: GatewayProcess;
let users: UpstreamFixture;
let checked: UpstreamFixture;
let slow: UpstreamFixture;
const holding = holdingUpstream();

beforeAll(async () => {
  browser = await launchChromium();
  users = await startUpstream(echoHandler);
  checked = await startUpstream(echoHandler);
  slow = await startUpstream(holding.handler);
  gateway = await startGatewayProcess({
    config: {
      upstreams: {
        users: { targets: [users.url] },
        checked: { targets: [checked.url], healthCheck: { path: '/healthz', intervalMs: HEALTH_INTERVAL_MS, unhealthyThreshold: 1 } },
        slow: { targets: [slow.url], concurrency: { limit: 20 } },
      },
      routes: [
        { id: 'users', path: '/api/users/*', upstream: 'users' },
        { id: 'checked', path: '/checked/*', upstream: 'checked' },
        { id: 'slow', path: '/slow/*', upstream: 'slow', timeoutMs: 30_000, concurrency: { limit: SLOW_LIMIT, queue: 10, queueTimeoutMs: 30_000 } },
        { id: 'limited', path: '/limited', upstream: 'users', rateLimit: { limit: 1, windowMs: 60_000, key: 'route' } },
      ],
    },
    env: { GATEWAY_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn' },
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.kill();
  await Promise.all([users, checked, slow].map((u) => u?.close()));
});

/** A page that records its console errors, uncaught exceptions and every request it makes. */
interface WatchedPage {
  page: Page;
  errors: string[];
  /** URLs of requests that did not go to the gateway's origin. */
  foreign: string[];
  requests: string[];
}

async function openDashboard(): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const watched: WatchedPage = { page, errors: [], foreign: [], requests: [] };
  const origin = new URL(gateway.url).origin;
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning') watched.errors.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => watched.errors.push(`pageerror: ${error.message}`));
  page.on('request', (request) => {
    watched.requests.push(request.url());
    if (new URL(request.url()).origin !== origin) watched.foreign.push(request.url());
  });
  await page.goto(`${gateway.url}/_gateway/dashboard`);
  return watched;
}

async function signIn(page: Page, token = TOKEN): Promise<void> {
  await page.locator('#token').fill(token);
  await page.locator('#login button[type=submit]').click();
}

const row = (page: Page, table: 'routes' | 'upstreams', name: string) => page.locator(`#${table} tbody tr[data-name="${name}"]`);
const field = (page: Page, table: 'routes' | 'upstreams', name: string, f: string) => row(page, table, name).locator(`[data-field="${f}"]`);

/** Runs GETs on `connections` connections until stopped; resolves `first` at the first response. */
function load(path: string, connections: number): { first: Promise<number>; stop(): Promise<void> } {
  const pool = new Pool(gateway.url, { connections });
  let running = true;
  let markFirst: (at: number) => void = () => undefined;
  const first = new Promise<number>((resolve) => (markFirst = resolve));
  const loops = Array.from({ length: connections }, async (_, n) => {
    for (let i = 0; running; i++) {
      const res = await pool.request({ path: `${path}/${n}-${i}`, method: 'GET' });
      await res.body.dump();
      markFirst(performance.now());
    }
  });
  return {
    first,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await pool.close();
    },
  };
}

describe('dashboard in Chromium', () => {
  it('asks for the token, says so when it is wrong, then lists every route and upstream of the config', async () => {
    const { page, errors, foreign } = await openDashboard();
    await page.locator('#login').waitFor({ state: 'visible', timeout: 5000 });
    await signIn(page, 'not-the-token');
    await page.locator('#message').filter({ hasText: 'refused this token (401' }).waitFor({ timeout: 5000 });
    expect(await page.locator('#login').isVisible()).toBe(true);
    expect(await page.locator('#board').isVisible()).toBe(false);
    // The browser reports the refused call itself; that is the one console line allowed here.
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    errors.length = 0;

    await signIn(page);
    await page.locator('#board').waitFor({ state: 'visible', timeout: 5000 });
    await row(page, 'routes', 'limited').waitFor({ timeout: 5000 });
    const names = async (table: string): Promise<string[]> =>
      (await page.locator(`#${table} tbody tr`).evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.name ?? ''))).sort();
    expect(await names('routes')).toEqual(['checked', 'limited', 'slow', 'users']);
    expect(await names('upstreams')).toEqual(['checked', 'slow', 'users']);
    expect(await page.evaluate(() => sessionStorage.getItem('gateway-admin-token'))).toBe(TOKEN);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await page.locator('#status').textContent()).toBe('live');
    expect({ errors, foreign }).toEqual({ errors: [], foreign: [] });
    await page.context().close();
  });

  it("under a scripted load the route's requests/s and p99 update within 2 s, and rate-limit rejections show", async () => {
    const { page, errors, foreign } = await openDashboard();
    await signIn(page);
    await row(page, 'routes', 'users').waitFor({ timeout: 5000 });
    expect(await field(page, 'routes', 'users', 'p99').textContent()).toBe('–');

    const traffic = load('/api/users', 8);
    try {
      const started = await traffic.first;
      await page.waitForFunction(
        () => {
          const tr = document.querySelector('#routes tr[data-name="users"]');
          const rps = Number(tr?.querySelector('[data-field="rps"]')?.textContent);
          const p99 = Number(tr?.querySelector('[data-field="p99"]')?.textContent);
          return rps > 0 && p99 > 0;
        },
        undefined,
        { timeout: 5000, polling: 50 },
      );
      const elapsed = performance.now() - started;
      expect({ elapsed, within2s: elapsed < 2000 }).toMatchObject({ within2s: true });
      expect(Number(await field(page, 'upstreams', 'users', 'rps').textContent())).toBeGreaterThan(0);
    } finally {
      await traffic.stop();
    }

    // The first call passes, the next three are rate-limited.
    for (let i = 0; i < 4; i++) await call(`${gateway.url}/limited`);
    await page.waitForFunction(() => document.querySelector('#routes tr[data-name="limited"] [data-field="rateLimited"]')?.getAttribute('data-total') === '3', undefined, {
      timeout: 3000,
    });
    expect(await field(page, 'routes', 'limited', 'errors').textContent()).toContain('rate_limited ×3');
    expect({ errors, foreign }).toEqual({ errors: [], foreign: [] });
    await page.context().close();
  });

  it('holding `limit` slow requests shows the permits full and the queue, and sorts that route first', async () => {
    const { page, errors, foreign } = await openDashboard();
    await signIn(page);
    await row(page, 'routes', 'slow').waitFor({ timeout: 5000 });
    await page.locator('#sort').selectOption('saturation');

    const pool = new Pool(gateway.url, { connections: SLOW_LIMIT + 2 });
    const requests = Array.from({ length: SLOW_LIMIT + 2 }, (_, i) => pool.request({ path: `/slow/${i}`, method: 'GET' }));
    const held: Arrival[] = [];
    for (let i = 0; i < SLOW_LIMIT; i++) held.push(await holding.next());
    try {
      const permits = field(page, 'routes', 'slow', 'permits');
      await permits.locator('[data-queued="2"]').waitFor({ timeout: 3000 });
      expect(await permits.locator('div').last().textContent()).toBe(`${SLOW_LIMIT} / ${SLOW_LIMIT} in use · 2 queued of 10`);
      expect(await permits.locator('.bar').getAttribute('data-level')).toBe('full');
      expect(await page.locator('#routes tbody tr').first().getAttribute('data-name')).toBe('slow');
    } finally {
      for (const arrival of held) arrival.res.end('done');
      for (let i = 0; i < 2; i++) (await holding.next()).res.end('done');
      await Promise.all(requests.map(async (r) => (await r).body.dump()));
      await pool.close();
    }
    await field(page, 'routes', 'slow', 'permits').locator('[data-in-use="0"][data-queued="0"]').waitFor({ timeout: 3000 });
    expect(await field(page, 'routes', 'slow', 'permits').locator('.bar').getAttribute('data-level')).toBe('ok');
    expect({ errors, foreign }).toEqual({ errors: [], foreign: [] });
    await page.context().close();
  });

  it('the assets total under 50 KB and carry a strict Content-Security-Policy', async () => {
    const files = ['', '/app.js', '/app.css', '/icon.svg'];
    const responses = await Promise.all(files.map((f) => call(`${gateway.url}/_gateway/dashboard${f}`)));
    const bytes = responses.reduce((sum, r) => sum + Buffer.byteLength(r.text), 0);
    expect({ bytes, under50KB: bytes < 50 * 1024 }).toMatchObject({ under50KB: true });
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect(r.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self';/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(responses[0].text).toContain('data-admin="/_gateway/admin"');
    // The files are revalidated, not fetched again.
    const again = await call(`${gateway.url}/_gateway/dashboard/app.js`, { headers: { 'if-none-match': String(responses[1].headers.etag) } });
    expect(again.status).toBe(304);
    expect((await call(`${gateway.url}/_gateway/dashboard/index.js`)).status).toBe(404);
  });

  it('polls once a second, and a poll costs the gateway under 10 ms of CPU (under 1% of a core)', async () => {
    const { page, requests } = await openDashboard();
    await signIn(page);
    await row(page, 'routes', 'users').waitFor({ timeout: 5000 });
    const polls = (): number => requests.filter((u) => u.endsWith('/_gateway/admin/stats')).length;
    const before = polls();
    await new Promise((done) => setTimeout(done, 10_000));
    const perTenSeconds = polls() - before;
    await page.context().close();

    // What each of those polls costs: the same call, many times over one connection, against the
    // process's CPU clock (10 ms ticks, so it takes a few hundred calls to read it).
    const calls = 300;
    const client = new Pool(gateway.url, { connections: 1 });
    const cpu = await cpuSecondsDuring(gateway.pid, async () => {
      for (let i = 0; i < calls; i++) {
        const res = await client.request({ path: '/_gateway/admin/stats', method: 'GET', headers: { authorization: `Bearer ${TOKEN}`, accept: '*/*' } });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`admin/stats: ${res.statusCode}`);
      }
    });
    await client.close();
    const msPerPoll = (cpu * 1000) / calls;
    const figures = { perTenSeconds, msPerPoll };
    expect({ figures, oncePerSecond: perTenSeconds >= 9 && perTenSeconds <= 11, underOnePercent: msPerPoll < 10 }).toEqual({
      figures,
      oncePerSecond: true,
      underOnePercent: true,
    });
  }, 40_000);

  it('a target that stops answering shows unhealthy within the health interval + 2 s', async () => {
    const { page, errors, foreign } = await openDashboard();
    await signIn(page);
    const target = field(page, 'upstreams', 'checked', 'targets').locator(`li[data-target="${checked.url}"]`);
    await target.and(page.locator('[data-healthy="true"]')).waitFor({ timeout: 5000 });
    const stoppedAt = performance.now();
    await checked.close();
    await target.and(page.locator('[data-healthy="false"]')).waitFor({ timeout: HEALTH_INTERVAL_MS + 5000 });
    const elapsed = performance.now() - stoppedAt;
    expect({ elapsed, inTime: elapsed < HEALTH_INTERVAL_MS + 2000 }).toMatchObject({ inTime: true });
    expect(await target.textContent()).toMatch(/unhealthy since \d/);
    expect({ errors, foreign }).toEqual({ errors: [], foreign: [] });
    await page.context().close();
  });

  it('an unreachable gateway shows a clear message, not a blank page', async () => {
    const { page } = await openDashboard();
    await signIn(page);
    await row(page, 'routes', 'users').waitFor({ timeout: 5000 });
    await gateway.stop('SIGTERM');
    await page.locator('#message').filter({ hasText: 'the gateway is unreachable' }).waitFor({ timeout: 5000 });
    expect(await page.locator('#board').isVisible()).toBe(true);
    expect(await page.locator('#status').textContent()).toMatch(/stale|unreachable/);
    await page.context().close();
  });
});

describe('dashboard without GATEWAY_ADMIN_TOKEN', () => {
  it('is not there (404), like the admin API', async () => {
    const bare = await startGatewayProcess({ config: { upstreams: { u: { targets: ['http://127.0.0.1:1'] } }, routes: [{ id: 'r', path: '/r', upstream: 'u' }] } });
    try {
      for (const path of ['/_gateway/dashboard', '/_gateway/dashboard/app.js']) expect((await call(`${bare.url}${path}`)).status).toBe(404);
    } finally {
      await bare.kill();
    }
  });
});

/** CPU seconds (user + system) the process `pid` uses while `work` runs (Linux: /proc, 100 ticks a second). */
async function cpuSecondsDuring(pid: number, work: () => Promise<void>): Promise<number> {
  const ticks = (): number => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const before = ticks();
  await work();
  return (ticks() - before) / 100;
}
