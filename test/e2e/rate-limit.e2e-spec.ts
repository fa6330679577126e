import type { ServerResponse } from 'node:http';
import { Agent, request as undiciRequest } from 'undici';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { call, type TestResponse } from '../support/http';
import { samplesOf } from '../support/metrics-text';
import { closedPort } from '../support/upstream-fixture';
import { testResources } from '../support/test-resources';

/*
 * docs/configuration.md "Config file reference" `rateLimit` with the in-process store (no REDIS_URL): fixed windows per route and
 * key, 429 rate_limited with Retry-After and RateLimit-* headers, passing responses with
 * RateLimit-* too, refused requests not counted, and the limit applied before any permit.
 */

const resources = testResources();

const header = (res: TestResponse, name: string): string | undefined => {
  const value = res.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

const rateHeaders = (res: TestResponse): Record<string, string | undefined> => ({
  limit: header(res, 'ratelimit-limit'),
  remaining: header(res, 'ratelimit-remaining'),
  reset: header(res, 'ratelimit-reset'),
  retryAfter: header(res, 'retry-after'),
});

describe('rate limits in memory', () => {
  it('limit 5 per 2 s on key ip: 5 pass with RateLimit-* headers, the 6th gets 429 with every header, and the window reopens after 2 s', async () => {
    const upstream = await resources.upstream();
    const gateway = await resources.gatewayWith({
      upstreams: { app: { targets: [upstream.url] } },
      routes: [{ id: 'limited', path: '/limited', upstream: 'app', rateLimit: { limit: 5, windowMs: 2000, key: 'ip' } }],
    });

    const passed: TestResponse[] = [];
    for (let i = 0; i < 5; i++) passed.push(await call(`${gateway.url}/limited`));
    expect(passed.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(passed.map((r) => rateHeaders(r).remaining)).toEqual(['4', '3', '2', '1', '0']);
    for (const r of passed) expect(rateHeaders(r)).toMatchObject({ limit: '5', reset: expect.stringMatching(/^[12]$/) as unknown, retryAfter: undefined });

    const refused = await call(`${gateway.url}/limited`);
    const windowEndsIn = Number(header(refused, 'retry-after'));
    expectGatewayError({ status: refused.status, headers: refused.headers, text: refused.text }, 429, 'rate_limited', 'limited');
    expect(rateHeaders(refused)).toEqual({ limit: '5', remaining: '0', reset: expect.stringMatching(/^[12]$/) as unknown, retryAfter: expect.stringMatching(/^[12]$/) as unknown });
    expect(upstream.requests).toHaveLength(5);

    // A time-based window: waiting until it has passed is the behaviour under test.
    await new Promise((resolve) => setTimeout(resolve, windowEndsIn * 1000 + 50));
    const reopened = await call(`${gateway.url}/limited`);
    expect(reopened.status).toBe(200);
    // The refused request was not counted against the new window.
    expect(rateHeaders(reopened).remaining).toBe('4');
  }, 15_000);

  it("the gateway's RateLimit-* headers replace an upstream's own, and a failed upstream's 502 carries them too", async () => {
    const upstream = await resources.upstream((_req, res) => {
      res.writeHead(200, { 'ratelimit-limit': '1000', 'ratelimit-remaining': '999', 'ratelimit-reset': '60' });
      res.end('ok');
    });
    const gateway = await resources.gatewayWith({
      upstreams: { app: { targets: [upstream.url] }, gone: { targets: [`http://127.0.0.1:${await closedPort()}`] } },
      routes: [
        { id: 'echoing', path: '/echoing', upstream: 'app', rateLimit: { limit: 3, windowMs: 60_000, key: 'ip' } },
        { id: 'failing', path: '/failing', upstream: 'gone', rateLimit: { limit: 3, windowMs: 60_000, key: 'ip' } },
      ],
    });
    const passed = await call(`${gateway.url}/echoing`);
    expect(passed.status).toBe(200);
    // Sent twice, undici would hand over both values as an array.
    expect(passed.headers['ratelimit-limit']).toBe('3');
    expect(passed.headers['ratelimit-remaining']).toBe('2');
    expect(passed.headers['ratelimit-reset']).toMatch(/^(59|60)$/);
    const failed = await call(`${gateway.url}/failing`);
    expectGatewayError({ status: failed.status, headers: failed.headers, text: failed.text }, 502, 'upstream_unreachable', 'failing');
    expect(rateHeaders(failed)).toMatchObject({ limit: '3', remaining: '2' });
  });

  it('key header:<name> keeps a budget per header value, and requests without the header share their address’s', async () => {
    const upstream = await resources.upstream();
    const gateway = await resources.gatewayWith({
      upstreams: { app: { targets: [upstream.url] } },
      routes: [{ id: 'per-client', path: '/per-client', upstream: 'app', rateLimit: { limit: 2, windowMs: 60_000, key: 'header:x-api-client' } }],
    });
    const as = async (client: string | null): Promise<number> =>
      (await call(`${gateway.url}/per-client`, { headers: client === null ? {} : { 'x-api-client': client } })).status;

    const statuses = { a: [] as number[], b: [] as number[], none: [] as number[] };
    for (let i = 0; i < 3; i++) {
      statuses.a.push(await as('team-a'));
      statuses.b.push(await as('team-b'));
      statuses.none.push(await as(null));
    }
    expect(statuses).toEqual({ a: [200, 200, 429], b: [200, 200, 429], none: [200, 200, 429] });
  });

  it('routes never share a budget, and key route is one budget for every client of the route', async () => {
    const upstream = await resources.upstream();
    const gateway = await resources.gatewayWith({
      upstreams: { app: { targets: [upstream.url] } },
      routes: [
        { id: 'one', path: '/one', upstream: 'app', rateLimit: { limit: 1, windowMs: 60_000, key: 'route' } },
        { id: 'two', path: '/two', upstream: 'app', rateLimit: { limit: 1, windowMs: 60_000, key: 'route' } },
        { id: 'free', path: '/free', upstream: 'app' },
      ],
    });
    const statuses = [];
    for (const path of ['/one', '/one', '/two', '/two', '/free', '/free']) statuses.push((await call(`${gateway.url}${path}`)).status);
    expect(statuses).toEqual([200, 429, 200, 429, 200, 200]);
    // A route without rateLimit says nothing about limits.
    expect(rateHeaders(await call(`${gateway.url}/free`)).limit).toBeUndefined();
  });

  it('a concurrent burst of 100 lets exactly the limit through, and every refusal is counted in gateway_rejections_total', async () => {
    const upstream = await resources.upstream();
    const gateway = await resources.gatewayWith({
      upstreams: { app: { targets: [upstream.url] } },
      routes: [{ id: 'burst', path: '/burst', upstream: 'app', rateLimit: { limit: 10, windowMs: 60_000, key: 'route' } }],
    });
    const agent = new Agent({ connections: 100 });
    resources.addCloser(() => agent.close());

    const statuses = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = await undiciRequest(`${gateway.url}/burst`, { dispatcher: agent });
        await res.body.dump();
        return res.statusCode;
      }),
    );

    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(90);
    expect(upstream.requests).toHaveLength(10);
    const metrics = (await call(`${gateway.url}/_gateway/metrics`)).text;
    expect(samplesOf(metrics, 'gateway_rejections_total').filter((s) => s.labels.route === 'burst')).toEqual([
      { labels: { route: 'burst', code: 'rate_limited' }, value: 90 },
    ]);
  });

  it('runs before the concurrency guard: a request over its rate limit never takes (or waits for) a permit', async () => {
    const held: ServerResponse[] = [];
    const upstream = await resources.upstream((_req, res) => void held.push(res));
    resources.addCloser(async () => {
      for (const res of held) res.end();
    });
    const gateway = await resources.gatewayWith({
      upstreams: { app: { targets: [upstream.url] } },
      routes: [
        {
          id: 'both',
          path: '/both',
          upstream: 'app',
          rateLimit: { limit: 1, windowMs: 60_000, key: 'route' },
          concurrency: { limit: 1, queue: 10, queueTimeoutMs: 10_000 },
        },
      ],
    });

    const first = call(`${gateway.url}/both`);
    await waitUntil(() => held.length === 1);
    const second = await call(`${gateway.url}/both`);

    // Had the rate limit come after the permits, this request would be queued behind the first.
    expectGatewayError({ status: second.status, headers: second.headers, text: second.text }, 429, 'rate_limited', 'both');
    const metrics = (await call(`${gateway.url}/_gateway/metrics`)).text;
    expect(samplesOf(metrics, 'gateway_permits_queued').find((s) => s.labels.scope === 'route')?.value).toBe(0);
    held[0].end('done');
    expect((await first).status).toBe(200);
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
