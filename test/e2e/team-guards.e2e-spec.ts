import { CanActivate, ExecutionContext, Injectable, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import type { RunningGateway } from '../../src/bootstrap';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { call } from '../support/http';
import { ADMIN_TOKEN, adminOf, startPluginGateway } from '../support/plugins/plugin-gateway';
import { startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/plugins.md "A team's own guards": a Nest guard a team registers with APP_GUARD in its own
 * module runs on proxied requests too, after the gateway's policies, with the request as a Fastify
 * guard reads it; `false` (at once or later) is a 403 forbidden, and the upstream is never called.
 */

interface SeenRequest {
  readonly url: string;
  readonly method: string;
  readonly ip: string;
  readonly team: string | undefined;
  readonly type: string;
}

const seen: SeenRequest[] = [];

@Injectable()
class TeamGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ url: string; method: string; ip: string; headers: IncomingHttpHeaders }>();
    const team = request.headers['x-team'] as string | undefined;
    seen.push({ url: request.url, method: request.method, ip: request.ip, team, type: context.getType() });
    if (team === 'deny') return false;
    if (team === 'deny-later') return new Promise((done) => setImmediate(() => done(false)));
    return true;
  }
}

@Module({ providers: [{ provide: APP_GUARD, useClass: TeamGuard }] })
class TeamGuardModule {}

let upstream: UpstreamFixture;
let gateway: RunningGateway;
const reached = (): number => upstream.requests.filter((r) => r.url.startsWith('/guarded')).length;

beforeAll(async () => {
  upstream = await startUpstream();
  gateway = await startPluginGateway(
    { upstreams: { app: { targets: [upstream.url] } }, routes: [{ id: 'guarded', path: '/guarded/*', upstream: 'app', concurrency: { limit: 5 } }] },
    { adminToken: ADMIN_TOKEN },
    undefined,
    [TeamGuardModule],
  );
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

beforeEach(() => seen.splice(0));

describe("a team's own APP_GUARD on proxied traffic", () => {
  it('sees the request as a Fastify guard would, and lets it through', async () => {
    const res = await call(`${gateway.url}/guarded/a?q=1`, { headers: { 'x-team': 'ok' } });
    expect(res.status).toBe(200);
    expect(seen).toEqual([{ url: '/guarded/a?q=1', method: 'GET', ip: '127.0.0.1', team: 'ok', type: 'http' }]);
    expect(reached()).toBe(1);
  });

  it.each(['deny', 'deny-later'])('answers %s with 403 forbidden, never calling the upstream, and gives the permit back', async (team) => {
    const before = reached();
    const res = await call(`${gateway.url}/guarded/b`, { headers: { 'x-team': team } });
    expectGatewayError(res, 403, 'forbidden', 'guarded');
    expect(reached()).toBe(before);
    expect((await adminOf(gateway).stats()).guarded.permitsInUse).toBe(0);
  });

  it("runs after the gateway's policies: a request no route matches never reaches it", async () => {
    const res = await call(`${gateway.url}/elsewhere`, { headers: { 'x-team': 'deny' } });
    expectGatewayError(res, 404, 'no_route', null);
    expect(seen).toEqual([]);
  });
});
