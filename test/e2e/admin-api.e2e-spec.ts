import { rename, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunningGateway } from '../../src/bootstrap';
import { UpstreamRegistry } from '../../src/upstream/upstream-registry.service';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { NotifyingLogCollector, startTestGateway } from '../support/gateway-fixture';
import { makeTempDir, writeTempConfig } from '../support/gateway-process';
import { call, type TestResponse } from '../support/http';
import { eventually, samplesOf } from '../support/metrics-text';
import { echoHandler, startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/operations.md "Admin API" and "Reloading the config": bearer auth, the live route table, stats that
 * match a scripted sequence of requests, the explain dry run, and reloads by API and by file
 * edit, including an invalid file and a request in flight across a reload.
 */

const TOKEN = 'admin-token-for-tests-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

let users: UpstreamFixture;
let gateway: RunningGateway;
let configPath: string;
const logs = new NotifyingLogCollector();
const held: Array<() => void> = [];

/** `/slow?ms=N` answers after N ms; `/missing` gets 404; anything else echoes. */
function usersHandler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname.endsWith('/missing')) {
    res.writeHead(404).end();
    return;
  }
  const ms = Number(url.searchParams.get('ms') ?? 0);
  if (ms > 0) {
    const timer = setTimeout(() => res.end('slow done'), ms);
    held.push(() => {
      clearTimeout(timer);
      res.end('released');
    });
    return;
  }
  echoHandler(req, res);
}

function configWith(extraRoutes: unknown[] = [], usersTimeoutMs = 1000): Record<string, unknown> {
  return {
    upstreams: {
      users: { targets: [users.url], connectTimeoutMs: usersTimeoutMs, concurrency: { limit: 50 } },
      spare: { targets: [users.url] },
    },
    routes: [
      { id: 'users', path: '/api/users/:id', methods: ['GET'], upstream: 'users', rewrite: '/v1/users/:id', concurrency: { limit: 2, queue: 1 } },
      {
        id: 'users-tenant',
        path: '/api/users/:id',
        host: 'tenant.example.com',
        headers: { 'x-tenant': 'acme' },
        upstream: 'users',
        plugins: [{ name: 'cors', config: { origins: ['*'] } }],
      },
      { id: 'limited', path: '/limited', upstream: 'users', rateLimit: { limit: 1, windowMs: 60_000, key: 'route' } },
      { id: 'slow', path: '/slow', upstream: 'users', timeoutMs: 5000 },
      ...extraRoutes,
    ],
  };
}

/** Writes the config file as an editor does: a new file renamed over the old one. */
async function saveConfig(config: unknown): Promise<void> {
  await writeFile(`${configPath}.tmp`, JSON.stringify(config));
  await rename(`${configPath}.tmp`, configPath);
}

const admin = (path: string, method: 'GET' | 'POST' = 'GET', headers: Record<string, string> = AUTH): Promise<TestResponse> =>
  call(`${gateway.url}/_gateway/admin/${path}`, { method, headers });

beforeAll(async () => {
  users = await startUpstream(usersHandler);
  configPath = await writeTempConfig(configWith(), 'gateway.json', await makeTempDir());
  gateway = await startTestGateway(configWith(), { configPath, adminToken: TOKEN, logLevel: 'info' }, logs);
});

afterAll(async () => {
  for (const release of held) release();
  await users.close();
  await gateway.close();
});

describe('admin authentication', () => {
  it('answers 401 with WWW-Authenticate without a token or with a wrong one, and 200 with the right one', async () => {
    const missing = await admin('routes', 'GET', {});
    expectGatewayError(missing, 401, 'unauthorized', null);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="gateway admin"');
    const wrong = await admin('routes', 'GET', { authorization: 'Bearer not-the-token-at-all-000000' });
    expectGatewayError(wrong, 401, 'unauthorized', null);
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="gateway admin", error="invalid_token"');
    // Same length as the real token, one character off.
    const nearly = await admin('routes', 'GET', { authorization: `Bearer ${TOKEN.slice(0, -1)}X` });
    expect(nearly.status).toBe(401);
    expect((await admin('routes')).status).toBe(200);
  });

  it('logs every admin call with whether the token was right, never the token', async () => {
    await admin('stats', 'GET', { authorization: 'Bearer wrong-token-wrong-token-00' });
    await admin('stats');
    const lines = await logs.waitForLines((l) => l.msg === 'admin call' && l.path === '/_gateway/admin/stats', 2, 'two admin call lines');
    expect(lines.map((l) => [l.auth, l.status, l.method])).toEqual([
      ['wrong', 401, 'GET'],
      ['ok', 200, 'GET'],
    ]);
    expect(JSON.stringify(logs.lines)).not.toContain(TOKEN);
  });

  it('is all 404 when GATEWAY_ADMIN_TOKEN is unset', async () => {
    const plain = await startTestGateway(configWith());
    try {
      for (const path of ['routes', 'stats', 'explain?path=/x']) {
        expectGatewayError(await call(`${plain.url}/_gateway/admin/${path}`, { headers: AUTH }), 404, 'no_route', null);
      }
      expectGatewayError(await call(`${plain.url}/_gateway/admin/reload`, { method: 'POST', headers: AUTH }), 404, 'no_route', null);
    } finally {
      await plain.close();
    }
  });

  it('answers 405 with Allow for the wrong method', async () => {
    const res = await admin('reload', 'GET');
    expectGatewayError(res, 405, 'method_not_allowed', null);
    expect(res.headers.allow).toBe('POST');
  });
});

describe('admin/routes and admin/stats', () => {
  it('lists the live routes and upstreams as compiled, with defaults applied', async () => {
    const table = (await admin('routes')).json<{ generation: number; routes: Array<Record<string, unknown>>; upstreams: Record<string, Record<string, unknown>> }>();
    expect(table.routes.map((r) => r.id)).toEqual(['users', 'users-tenant', 'limited', 'slow']);
    expect(table.routes[0]).toMatchObject({ path: '/api/users/:id', rewrite: '/v1/users/:id', timeoutMs: 30_000, concurrency: { limit: 2, queue: 1 } });
    expect(table.upstreams.users).toMatchObject({ targets: [users.url], connectTimeoutMs: 1000, loadBalancing: 'round-robin' });
  });

  it('reports figures that match a scripted sequence of requests', async () => {
    const statsOf = async (): Promise<Stats> => (await admin('stats')).json<Stats>();
    const before = await statsOf();
    for (let i = 0; i < 3; i++) expect((await call(`${gateway.url}/api/users/${i}`)).status).toBe(200);
    expect((await call(`${gateway.url}/api/users/missing`)).status).toBe(404);
    expect((await call(`${gateway.url}/limited`)).status).toBe(200);
    expect((await call(`${gateway.url}/limited`)).status).toBe(429);
    // A request held at the upstream shows as in flight on its route, its upstream and its target.
    const slow = call(`${gateway.url}/slow?ms=60000`);
    await eventually(async () => (await statsOf()).routes.slow.inFlight === 1, 'the slow request in flight');
    const during = await statsOf();
    expect(during.upstreams.users.inFlight).toBe(1);
    expect(during.upstreams.users.targets).toEqual([expect.objectContaining({ url: users.url, healthy: true, inFlight: 1 })]);
    await eventually(async () => (await statsOf()).routes.users.requests - before.routes.users.requests === 4, 'four requests on route users');
    const after = await statsOf();
    const route = after.routes.users;
    expect(route.byStatus).toEqual(plus(before.routes.users.byStatus, { 200: 3, 404: 1 }));
    expect(route).toMatchObject({ inFlight: 0, permitsInUse: 0, queued: 0, limit: 2, queueLimit: 1, upstream: 'users' });
    expect(route.requestsPerSecond).toBeGreaterThanOrEqual(0.4);
    expect(route.p50Ms).toBeGreaterThan(0);
    expect(route.p99Ms).toBeGreaterThanOrEqual(route.p50Ms!);
    expect(after.routes.limited.byStatus).toEqual({ 200: 1, 429: 1 });
    expect(after.routes.limited.byCode).toEqual({ rate_limited: 1 });
    expect(after.routes.limited.limit).toBeNull();
    // The upstream counts what reached it: the four on `users` and the one `limited` let through.
    expect(after.upstreams.users.requests - before.upstreams.users.requests).toBe(5);
    expect(after.upstreams.users).toMatchObject({ limit: 50, permitsInUse: 1 });
    for (const release of held.splice(0)) release();
    expect((await slow).text).toBe('released');
  });
});

interface Figures {
  inFlight: number;
  requests: number;
  byStatus: Record<string, number>;
  byCode: Record<string, number>;
  requestsPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  permitsInUse: number;
  queued: number;
  limit: number | null;
  queueLimit: number | null;
}
interface Stats {
  routes: Record<string, Figures & { upstream: string }>;
  upstreams: Record<string, Figures & { targets: Array<{ url: string; healthy: boolean; inFlight: number }> }>;
}

function plus(base: Record<string, number>, more: Record<string, number>): Record<string, number> {
  const sum = { ...base };
  for (const [key, n] of Object.entries(more)) sum[key] = (sum[key] ?? 0) + n;
  return sum;
}

describe('admin/explain', () => {
  interface Explained {
    outcome: string;
    status: number | null;
    route: string | null;
    allow: string[] | null;
    upstreamPath: string | null;
    candidates: Array<{ route: string; matched: boolean; reasons: string[] }>;
    policies: {
      upstream: string;
      targets: Array<{ url: string; healthy: boolean }>;
      timeoutMs: number;
      concurrency: { route: unknown; upstream: unknown };
      plugins: string[];
    } | null;
  }
  const explain = async (query: string): Promise<Explained> => {
    const res = await admin(`explain?${query}`);
    expect(res.status).toBe(200);
    return res.json<Explained>();
  };
  const reasonsOf = (e: Explained, id: string): string[] => e.candidates.find((c) => c.route === id)!.reasons;

  it('explains a match: the route, the rewritten upstream URL and the policies, touching nothing', async () => {
    const before = await admin('stats');
    const served = users.requests.length;
    const e = await explain('method=GET&path=/api/users/7%3Fx&host=api.example.com');
    expect(e).toMatchObject({ outcome: 'route', status: null, route: 'users' });
    const q = await explain(`method=GET&path=${encodeURIComponent('/api/users/7?expand=1')}`);
    expect(q.upstreamPath).toBe('/v1/users/7?expand=1');
    expect(q.policies).toMatchObject({
      upstream: 'users',
      targets: [{ url: `${users.url}/v1/users/7?expand=1`, healthy: true }],
      timeoutMs: 30_000,
      concurrency: { route: { limit: 2, queue: 1 }, upstream: { limit: 50 } },
    });
    expect(reasonsOf(q, 'limited')).toEqual(['path: /limited does not match /api/users/7']);
    // A dry run: no upstream call, no counter moved.
    expect(users.requests.length).toBe(served);
    expect((await admin('stats')).json<Stats>().routes.users.requests).toBe(before.json<Stats>().routes.users.requests);
  });

  it('explains a 405 candidate, a host and header mismatch, and a 404', async () => {
    const notAllowed = await explain('method=DELETE&path=/api/users/7');
    expect(notAllowed).toMatchObject({ outcome: 'method_not_allowed', status: 405, route: null });
    expect(reasonsOf(notAllowed, 'users')).toEqual(['method: DELETE not in GET']);
    expect(reasonsOf(notAllowed, 'users-tenant')).toEqual(expect.arrayContaining([expect.stringMatching(/^host: tenant\.example\.com does not match/)]));

    const tenant = await explain('method=POST&path=/api/users/7&host=tenant.example.com&header=x-tenant:other');
    expect(tenant.outcome).toBe('method_not_allowed');
    expect(reasonsOf(tenant, 'users-tenant')).toEqual(['header x-tenant: expected "acme", got "other"']);

    const matched = await explain('method=POST&path=/api/users/7&host=tenant.example.com&header=x-tenant:acme');
    expect(matched).toMatchObject({ outcome: 'route', route: 'users-tenant', policies: { plugins: ['cors'] } });
    expect(reasonsOf(matched, 'users')).toEqual(['method: POST not in GET']);

    const none = await explain('path=/nowhere');
    expect(none).toMatchObject({ outcome: 'no_route', status: 404, route: null, policies: null });
    expect(none.candidates).toHaveLength(4);
    for (const candidate of none.candidates) expect(candidate.reasons[0]).toMatch(/^path: .* does not match \/nowhere$/);
  });

  it('refuses an explain without a path', async () => {
    expectGatewayError(await admin('explain?method=GET'), 400, 'bad_request', null);
  });
});

describe('reload', () => {
  it('by the admin API: answers what changed and serves the new table', async () => {
    await saveConfig(configWith([{ id: 'orders', path: '/orders/*', upstream: 'spare' }]));
    const res = await admin('reload', 'POST');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      result: 'success',
      changes: { routes: { added: ['orders'], removed: [], changed: [] }, upstreams: { added: [], removed: [], changed: [] }, restartRequired: [] },
    });
    expect((await call(`${gateway.url}/orders/1`)).status).toBe(200);
    expect((await admin('routes')).json<{ routes: Array<{ id: string }> }>().routes.map((r) => r.id)).toContain('orders');
  });

  it('refuses an invalid file with every error listed, and the old routes keep serving', async () => {
    await saveConfig({ upstreams: { users: { targets: ['not a url'] } }, routes: [{ id: 'x', path: 'no-slash', upstream: 'nobody' }] });
    const res = await admin('reload', 'POST');
    expect(res.status).toBe(400);
    const body = res.json<{ statusCode: number; code: string; message: string; errors: string[] }>();
    expect(body).toMatchObject({ statusCode: 400, code: 'invalid_config', message: expect.stringContaining('the previous config keeps serving') });
    expect(body.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^config: upstreams\.users\.targets/),
        expect.stringMatching(/^config: routes\[0\]\.path/),
        expect.stringMatching(/^config: routes\[0\]\.upstream/),
      ]),
    );
    expect((await call(`${gateway.url}/orders/1`)).status).toBe(200);
    expect((await call(`${gateway.url}/api/users/1`)).status).toBe(200);
    const metrics = (await call(`${gateway.url}/_gateway/metrics`)).text;
    expect(samplesOf(metrics, 'gateway_config_reloads_total').find((s) => s.labels.result === 'failure')?.value).toBe(1);
    expect(logs.lines.some((l) => l.msg === 'config reload refused; the previous config keeps serving' && Array.isArray(l.errors))).toBe(true);
  });

  it('by a file edit (write and rename): reloaded once it settles', async () => {
    await saveConfig(configWith([{ id: 'billing', path: '/billing', upstream: 'spare' }]));
    const addsBilling = (l: Record<string, unknown>): boolean =>
      l.msg === 'config reloaded' && l.trigger === 'file' && (l.routes as { added: string[] }).added.includes('billing');
    await logs.waitForLines(addsBilling, 1, 'a reload by the file watch that adds billing');
    expect((await call(`${gateway.url}/billing`)).status).toBe(200);
    expectGatewayError(await call(`${gateway.url}/orders/1`), 404, 'no_route', null);
  });

  it('lets a 1.5 s request in flight finish on the table it started with, even when the reload replaces its upstream', async () => {
    const inFlight = call(`${gateway.url}/slow?ms=1500`);
    await eventually(() => users.requests.some((r) => r.url === '/slow?ms=1500'), 'the slow request at the upstream');
    // The route goes away and its upstream's settings change: the old client must stay until the request is done.
    await saveConfig({ ...configWith([], 2000), routes: (configWith().routes as unknown[]).slice(0, 3) });
    const res = await admin('reload', 'POST');
    expect(res.json()).toMatchObject({ result: 'success', changes: { routes: { removed: ['slow', 'billing'] }, upstreams: { changed: ['users'] } } });
    expectGatewayError(await call(`${gateway.url}/slow`), 404, 'no_route', null);
    // The replaced client waits for its last request, then closes.
    const registry = gateway.app.get(UpstreamRegistry);
    expect(registry.retiringCount).toBe(1);
    const done = await inFlight;
    expect(done.status).toBe(200);
    expect(done.text).toBe('slow done');
    await eventually(() => registry.retiringCount === 0, 'the retired client closed');
  });
});
