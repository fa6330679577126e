import { writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { ConfigFileReloads } from '../../src/admin/config-file-reloads';
import { ActiveHealthChecks } from '../../src/health/active-health-checks';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { startTestGateway } from '../support/gateway-fixture';
import { makeTempDir, startGatewayProcess, waitForLogLines, writeTempConfig, type GatewayProcess } from '../support/gateway-process';
import { call, type TestResponse } from '../support/http';
import { eventually } from '../support/metrics-text';
import { echoHandler, startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/operations.md "Shutdown" and "Reloading the config": SIGTERM drains (readiness 503, new requests 503
 * shutting_down, requests in flight finish within GATEWAY_SHUTDOWN_GRACE_MS, then exit 0), a
 * request that never ends is cut at the grace period, a second signal exits at once, and
 * SIGHUP reloads the config.
 */

let upstream: UpstreamFixture;
const hanging: ServerResponse[] = [];
const running: GatewayProcess[] = [];

/** `/slow?ms=N` answers after N ms; `/never` never answers (until the test ends); anything else echoes. */
function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/never') {
    hanging.push(res);
    res.writeHead(200).write('started');
    return;
  }
  const ms = Number(url.searchParams.get('ms') ?? 0);
  if (ms > 0) setTimeout(() => res.end('slow done'), ms);
  else echoHandler(req, res);
}

const config = (): Record<string, unknown> => ({
  upstreams: { u: { targets: [upstream.url] } },
  routes: [{ id: 'r', path: '/*', upstream: 'u' }],
});

beforeAll(async () => {
  upstream = await startUpstream(handler);
});

afterAll(async () => {
  for (const gateway of running) await gateway.kill();
  for (const res of hanging) res.destroy();
  await upstream.close();
});

async function gatewayWithGrace(graceMs: number): Promise<GatewayProcess> {
  const gateway = await startGatewayProcess({ config: config(), env: { GATEWAY_SHUTDOWN_GRACE_MS: String(graceMs) } });
  running.push(gateway);
  return gateway;
}

/** A request on a connection of its own, so no keep-alive socket from another test is reused. */
const freshCall = (url: string): Promise<TestResponse> => call(url, { headers: { connection: 'close' } });

const drainStarted = (gateway: GatewayProcess): Promise<unknown> =>
  waitForLogLines(gateway, (l) => l.msg === 'shutting down', 1, 'the shutting down line', 5000);

describe('SIGTERM', () => {
  it('lets a 1 s request in flight complete 200, refuses new ones with 503 shutting_down, reports not ready, and exits 0 within the grace period', async () => {
    const gateway = await gatewayWithGrace(5000);
    const inFlight = call(`${gateway.url}/slow?ms=1000`);
    await eventually(() => upstream.requests.some((r) => r.url === '/slow?ms=1000'), 'the slow request at the upstream');
    const signalledAt = performance.now();
    gateway.child.kill('SIGTERM');
    await drainStarted(gateway);

    // The listener stays open through the drain, so a late client hears why instead of a refused connection.
    const late = await freshCall(`${gateway.url}/anything`);
    expectGatewayError(late, 503, 'shutting_down', null);
    expect(late.headers.connection).toBe('close');
    const ready = await freshCall(`${gateway.url}/_gateway/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'error', error: { gateway: { status: 'down', draining: true } } });
    expect((await freshCall(`${gateway.url}/_gateway/health/live`)).status).toBe(200);

    const done = await inFlight;
    expect({ status: done.status, text: done.text }).toEqual({ status: 200, text: 'slow done' });
    const exit = await gateway.exited;
    const tookMs = performance.now() - signalledAt;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThan(5000);
    expect(gateway.logLines().some((l) => l.msg === 'grace period over: cutting requests still in flight')).toBe(false);
  });

  it('cuts a request that never ends at the grace period and still exits 0', async () => {
    const gateway = await gatewayWithGrace(1000);
    const res = await request(`${gateway.url}/never`);
    expect(res.statusCode).toBe(200);
    const body = res.body.text().then(
      () => 'ended',
      () => 'cut',
    );
    const signalledAt = performance.now();
    gateway.child.kill('SIGTERM');
    const exit = await gateway.exited;
    const tookMs = performance.now() - signalledAt;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeGreaterThanOrEqual(950);
    expect(tookMs).toBeLessThan(4000);
    expect(await body).toBe('cut');
    expect(gateway.logLines()).toEqual(
      expect.arrayContaining([expect.objectContaining({ msg: 'grace period over: cutting requests still in flight', inFlight: 1, graceMs: 1000 })]),
    );
  });

  it('exits at once on a second signal, without waiting for the drain', async () => {
    const gateway = await gatewayWithGrace(60_000);
    const res = await request(`${gateway.url}/never`);
    void res.body.text().catch(() => undefined);
    gateway.child.kill('SIGTERM');
    await drainStarted(gateway);
    const secondAt = performance.now();
    gateway.child.kill('SIGINT');
    const exit = await gateway.exited;
    expect(performance.now() - secondAt).toBeLessThan(3000);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('SIGINT again: exiting now');
  });
});

describe('SIGHUP', () => {
  it('reloads the config file', async () => {
    const gateway = await gatewayWithGrace(1000);
    expectGatewayError(await call(`${gateway.url}/_gateway/nothing`), 404, 'no_route', null);
    await writeFile(gateway.configPath!, JSON.stringify({ ...config(), routes: [{ id: 'only-v2', path: '/v2/*', upstream: 'u' }] }));
    gateway.child.kill('SIGHUP');
    const [line] = await waitForLogLines(gateway, (l) => l.msg === 'config reloaded' && l.trigger === 'signal', 1, 'a reload by SIGHUP', 5000);
    expect(line).toMatchObject({ routes: { added: ['only-v2'], removed: ['r'], changed: [] } });
    expect((await call(`${gateway.url}/v2/x`)).status).toBe(200);
    expectGatewayError(await call(`${gateway.url}/v1/x`), 404, 'no_route', null);
    expect((await gateway.stop()).code).toBe(0);
  });
});

describe('close', () => {
  it('stops the health-check timers and the config file watch', async () => {
    const withChecks = { ...config(), upstreams: { u: { targets: [upstream.url], healthCheck: { path: '/healthz', intervalMs: 100 } } } };
    const configPath = await writeTempConfig(withChecks, 'gateway.json', await makeTempDir());
    const gateway = await startTestGateway(withChecks, { configPath });
    const reloads = gateway.app.get(ConfigFileReloads);
    const checks = gateway.app.get(ActiveHealthChecks);
    expect({ watching: reloads.watching, timers: checks.timerCount }).toEqual({ watching: true, timers: 1 });
    await gateway.close();
    expect({ watching: reloads.watching, timers: checks.timerCount }).toEqual({ watching: false, timers: 0 });
  });
});
