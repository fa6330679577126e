import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { RunningGateway } from '../../src/bootstrap';
import { ActiveHealthChecks } from '../../src/health/active-health-checks';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { NotifyingLogCollector, startTestGateway, type LogLine } from '../support/gateway-fixture';
import { call, type TestResponse } from '../support/http';
import { eventually } from '../support/metrics-text';
import { closedPort } from '../support/upstream-fixture';

/*
 * docs/policies.md "Upstream health" (`healthCheck`, 503 no_healthy_target, health/live and health/ready): active
 * checks and passive ejection against real upstream servers that stop and come back.
 */

/** A node:http target that can be stopped and started again on the same port; it names itself in x-target. */
interface RestartableTarget {
  readonly url: string;
  readonly name: string;
  served: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

const targets: RestartableTarget[] = [];
const gateways: RunningGateway[] = [];

afterAll(async () => {
  for (const target of targets) await target.stop();
  for (const gateway of gateways) await gateway.close();
});

async function restartableTarget(name: string, status = 200): Promise<RestartableTarget> {
  const port = await closedPort();
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  const target: RestartableTarget = {
    url: `http://127.0.0.1:${port}`,
    name,
    served: 0,
    start: async () => {
      const created = createServer((req, res) => {
        if (req.url !== '/healthz') target.served++;
        res.writeHead(req.url === '/healthz' ? 200 : status, { 'x-target': name });
        res.end(name);
      });
      created.on('connection', (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => created.listen(port, '127.0.0.1', resolve));
      server = created;
    },
    stop: async () => {
      const running = server;
      server = null;
      if (running === null) return;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => running.close(() => resolve()));
    },
  };
  await target.start();
  targets.push(target);
  return target;
}

async function gatewayWith(config: unknown, logs = new NotifyingLogCollector()): Promise<{ gateway: RunningGateway; logs: NotifyingLogCollector }> {
  const gateway = await startTestGateway(config, { logLevel: 'info' }, logs);
  gateways.push(gateway);
  return { gateway, logs };
}

interface ReadyBody {
  status: string;
  details: Record<string, { status: string; targets?: Array<{ url: string; healthy: boolean; reason: string | null }> }>;
}

const ready = async (gateway: RunningGateway): Promise<{ status: number; body: ReadyBody }> => {
  const res = await call(`${gateway.url}/_gateway/health/ready`);
  return { status: res.status, body: res.json<ReadyBody>() };
};

const healthyOf = (body: ReadyBody, upstream: string, url: string): boolean | undefined =>
  body.details[`upstream:${upstream}`]?.targets?.find((t) => t.url === url)?.healthy;

const transitions = (logs: NotifyingLogCollector, url: string): LogLine[] => logs.lines.filter((l) => l.msg === 'target health changed' && l.target === url);

describe('active health checks', () => {
  const CHECK = { path: '/healthz', intervalMs: 200, timeoutMs: 200, unhealthyThreshold: 2, healthyThreshold: 1 };
  /** The bound for noticing a stopped target: intervalMs * unhealthyThreshold + 1 s (plus the 10% jitter). */
  const NOTICE_MS = CHECK.intervalMs * 1.1 * CHECK.unhealthyThreshold + 1000;

  it('a stopped target is marked unhealthy in time and gets no traffic; with none left ready is 503; they come back when their servers do; live stays 200', async () => {
    const a = await restartableTarget('a');
    const b = await restartableTarget('b');
    const { gateway, logs } = await gatewayWith({
      upstreams: { users: { targets: [a.url, b.url], healthCheck: CHECK } },
      routes: [{ id: 'users', path: '/users', upstream: 'users' }],
    });
    expect((await ready(gateway)).status).toBe(200);

    await b.stop();
    const stoppedAt = Date.now();
    await eventually(async () => healthyOf((await ready(gateway)).body, 'users', b.url) === false, 'b marked unhealthy', NOTICE_MS + 2000, 20);
    expect(Date.now() - stoppedAt).toBeLessThanOrEqual(NOTICE_MS);
    expect((await ready(gateway)).status).toBe(200);

    // Every request now goes to a, and none fails.
    const statuses: number[] = [];
    const servedBefore = a.served;
    for (let i = 0; i < 40; i++) statuses.push((await call(`${gateway.url}/users`)).status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(a.served - servedBefore).toBe(40);

    await a.stop();
    const bothStoppedAt = Date.now();
    await eventually(async () => (await ready(gateway)).status === 503, 'ready 503 with no healthy target', NOTICE_MS + 2000, 20);
    expect(Date.now() - bothStoppedAt).toBeLessThanOrEqual(NOTICE_MS);
    const refused = await call(`${gateway.url}/users`);
    expectGatewayError({ status: refused.status, headers: refused.headers, text: refused.text }, 503, 'no_healthy_target', 'users');
    expect((await ready(gateway)).body.details['upstream:users'].status).toBe('down');
    expect((await call(`${gateway.url}/_gateway/health/live`)).status).toBe(200);

    await a.start();
    await b.start();
    await eventually(async () => {
      const { status, body } = await ready(gateway);
      return status === 200 && healthyOf(body, 'users', a.url) === true && healthyOf(body, 'users', b.url) === true;
    }, 'both targets back', NOTICE_MS + 2000, 20);
    const back = new Set<string>();
    for (let i = 0; i < 4; i++) back.add(String((await call(`${gateway.url}/users`)).headers['x-target']));
    expect(back).toEqual(new Set(['a', 'b']));

    // One log line per transition: b down, a down, then both up again.
    expect(transitions(logs, b.url).map((l) => `${String(l.from)}->${String(l.to)}`)).toEqual(['healthy->unhealthy', 'unhealthy->healthy']);
    expect(transitions(logs, a.url).map((l) => `${String(l.from)}->${String(l.to)}`)).toEqual(['healthy->unhealthy', 'unhealthy->healthy']);
    expect(String(transitions(logs, b.url)[0].reason)).toMatch(/failed health check/);
  }, 30_000);

  it('stops its timers when the gateway closes', async () => {
    const a = await restartableTarget('a');
    const { gateway } = await gatewayWith({ upstreams: { users: { targets: [a.url], healthCheck: CHECK } }, routes: [{ id: 'users', path: '/users', upstream: 'users' }] });
    const checks = gateway.app.get(ActiveHealthChecks);
    expect(checks.timerCount).toBe(1);
    await gateway.close();
    gateways.splice(gateways.indexOf(gateway), 1);
    expect(checks.timerCount).toBe(0);
  });
});

describe('passive health', () => {
  it('without a healthCheck, a target that refuses connections is ejected after consecutiveFailures failures, then tried again after ejectMs (and ejected for longer when it fails again)', async () => {
    const live = await restartableTarget('live');
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const { gateway, logs } = await gatewayWith({
      upstreams: { mixed: { targets: [dead, live.url], passiveHealth: { consecutiveFailures: 3, ejectMs: 300, maxEjectMs: 5000 } } },
      routes: [{ id: 'mixed', path: '/mixed', upstream: 'mixed' }],
    });

    const first: number[] = [];
    for (let i = 0; i < 6; i++) first.push((await call(`${gateway.url}/mixed`)).status);
    // Round-robin: the dead target's three 502s, then it is out.
    expect(first).toEqual([502, 200, 502, 200, 502, 200]);
    const after: TestResponse[] = [];
    for (let i = 0; i < 20; i++) after.push(await call(`${gateway.url}/mixed`));
    expect(after.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);

    await logs.waitForLines((l) => l.msg === 'target health changed' && l.target === dead && l.to === 'healthy', 1, 'the dead target tried again', 5000);
    // Tried again: its next request fails and ejects it for twice as long.
    const retried: number[] = [];
    for (let i = 0; i < 2; i++) retried.push((await call(`${gateway.url}/mixed`)).status);
    expect(retried.sort()).toEqual([200, 502]);
    const lines = transitions(logs, dead);
    expect(lines.map((l) => `${String(l.from)}->${String(l.to)}`)).toEqual(['healthy->unhealthy', 'unhealthy->healthy', 'healthy->unhealthy']);
    expect(String(lines[0].reason)).toMatch(/^ejected for 300 ms: 3 consecutive failures/);
    expect(String(lines[2].reason)).toMatch(/^ejected for 600 ms: failed again after an ejection/);
  }, 20_000);

  it('an application’s own 500s do not eject a target (only connect failures and 502/503/504 count)', async () => {
    const buggy = await restartableTarget('buggy', 500);
    const { gateway } = await gatewayWith({
      upstreams: { app: { targets: [buggy.url], passiveHealth: { consecutiveFailures: 2, ejectMs: 60_000 } } },
      routes: [{ id: 'app', path: '/app', upstream: 'app' }],
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(`${gateway.url}/app`)).status);
    expect(statuses).toEqual([500, 500, 500, 500, 500, 500]);
    expect(buggy.served).toBe(6);
  });

  it('when every target is out: 503 no_healthy_target at once, without reaching the upstream', async () => {
    const failing = await restartableTarget('failing', 503);
    const { gateway } = await gatewayWith({
      upstreams: { broken: { targets: [failing.url], passiveHealth: { consecutiveFailures: 2, ejectMs: 60_000 } } },
      routes: [{ id: 'broken', path: '/broken', upstream: 'broken' }],
    });
    expect((await call(`${gateway.url}/broken`)).status).toBe(503);
    expect((await call(`${gateway.url}/broken`)).status).toBe(503);
    for (let i = 0; i < 5; i++) {
      const res = await call(`${gateway.url}/broken`);
      expectGatewayError({ status: res.status, headers: res.headers, text: res.text }, 503, 'no_healthy_target', 'broken');
    }
    expect(failing.served).toBe(2);
    // Without a healthCheck the upstream does not decide readiness.
    expect((await ready(gateway)).status).toBe(200);
    expect((await call(`${gateway.url}/_gateway/health/live`)).status).toBe(200);
  });
});

describe('the health endpoints', () => {
  it('answer in terminus’s shape, and other methods than GET and HEAD get 405 with Allow', async () => {
    const a = await restartableTarget('a');
    const { gateway } = await gatewayWith({
      upstreams: { users: { targets: [a.url], healthCheck: { path: '/healthz', intervalMs: 1000 } } },
      routes: [{ id: 'users', path: '/users', upstream: 'users' }],
    });
    const live = await call(`${gateway.url}/_gateway/health/live`);
    expect(live.json()).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    const { body } = await ready(gateway);
    expect(body).toMatchObject({
      status: 'ok',
      details: { gateway: { status: 'up', draining: false }, 'upstream:users': { status: 'up', targets: [{ url: a.url, healthy: true, reason: null }] } },
    });
    for (const path of ['live', 'ready']) {
      for (const method of ['POST', 'PUT', 'DELETE'] as const) {
        const res = await call(`${gateway.url}/_gateway/health/${path}`, { method });
        expectGatewayError({ status: res.status, headers: res.headers, text: res.text }, 405, 'method_not_allowed', null);
        expect(res.headers.allow).toBe('GET, HEAD');
      }
    }
  });
});
