import type { ExecutionContext } from '@nestjs/common';
import type { ClsService } from 'nestjs-cls';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { validateGatewayConfig } from '../config/config-validator';
import { GatewayError } from '../errors/gateway-error';
import { RequestEnd } from '../lifecycle/request-end';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { TrafficStats } from '../metrics/traffic-stats';
import { CompiledRoute } from '../routing/compiled-route';
import { RouteBinding } from '../routing/route-binding';
import { UndiciUpstreamClient } from '../upstream/undici-upstream-client';
import type { RequestContext } from '../trace/request-context';
import { ConcurrencyGuard } from './concurrency.guard';
import { PermitRegistry } from './permit-registry.service';
import { Semaphore } from './semaphore';

/*
 * The guard's bookkeeping when the client leaves at the worst moment: after its queued permit
 * was granted but before the guard's continuation runs. A permit granted to a request that has
 * ended must go straight back; nothing may be left held.
 */

const config = validateGatewayConfig({
  upstreams: { u: { targets: ['http://127.0.0.1:1'], concurrency: { limit: 1, queue: 5, queueTimeoutMs: 10_000 } } },
  routes: [{ id: 'r', path: '/r', upstream: 'u', concurrency: { limit: 1, queue: 5, queueTimeoutMs: 10_000 } }],
});

interface FakeRequest {
  readonly res: ServerResponse;
  readonly end: RequestEnd;
  readonly http: ExecutionContext;
}

/** A request as the guard sees it: a real (unconnected) Node response with its RequestEnd, and the matched route. */
function fakeRequest(route: CompiledRoute): FakeRequest {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  const end = new RequestEnd(res);
  const http = {
    switchToHttp: () => ({ getRequest: () => ({ gatewayRoute: route }), getResponse: () => ({ raw: res }) }),
  } as unknown as ExecutionContext;
  return { res, end, http };
}

function setUp(): { guard: ConcurrencyGuard; permits: PermitRegistry; route: CompiledRoute; contextOf: Map<ExecutionContext, RequestEnd> } {
  const permits = new PermitRegistry(config);
  const contextOf = new Map<ExecutionContext, RequestEnd>();
  let current: RequestEnd | null = null;
  const cls = { get: () => (current ? ({ end: current } as unknown as RequestContext) : undefined) } as unknown as ClsService<RequestContext>;
  const guard = new ConcurrencyGuard(new GatewayMetrics(), cls);
  const wrapped = {
    canActivate: (http: ExecutionContext) => {
      current = contextOf.get(http) ?? null;
      return guard.canActivate(http);
    },
  } as ConcurrencyGuard;
  const route = new CompiledRoute(config.routes[0]);
  const traffic = new TrafficStats();
  route.bind(new RouteBinding(new UndiciUpstreamClient(config.upstreams.u), permits.route('r')!, permits.upstream('u')!, traffic.route('r'), traffic.upstream('u'), []));
  return { guard: wrapped, permits, route, contextOf };
}

function register(contextOf: Map<ExecutionContext, RequestEnd>, request: FakeRequest): ExecutionContext {
  contextOf.set(request.http, request.end);
  return request.http;
}

const figures = (permits: PermitRegistry): string =>
  `route ${permits.figures('route', 'r').inFlight}/${permits.figures('route', 'r').queued}, upstream ${permits.figures('upstream', 'u').inFlight}/${permits.figures('upstream', 'u').queued}`;

describe('ConcurrencyGuard when the client leaves', () => {
  it('a route permit granted in the same tick the client left is given back, and the request stops', async () => {
    const { guard, permits, route, contextOf } = setUp();
    const first = fakeRequest(route);
    expect(guard.canActivate(register(contextOf, first))).toBe(true);
    const second = fakeRequest(route);
    const waiting = guard.canActivate(register(contextOf, second)) as Promise<boolean>;
    const outcome = waiting.then(
      () => 'granted',
      (error: unknown) => (error instanceof GatewayError ? error.code : String(error)),
    );
    expect(figures(permits)).toBe('route 1/1, upstream 1/0');

    // The first request ends: its route permit is handed to the queued second one, whose client
    // leaves before the guard's continuation has run.
    first.res.emit('close');
    second.res.emit('close');

    expect(await outcome).toBe('client_closed');
    expect(figures(permits)).toBe('route 0/0, upstream 0/0');
  });

  it('an upstream permit granted in the same tick the client left is given back', async () => {
    const { guard, permits, route, contextOf } = setUp();
    // Another route's request holds the only upstream permit.
    const upstreamHolder = permits.upstream('u')!.semaphore.tryAcquire()!;
    const request = fakeRequest(route);
    const outcome = (guard.canActivate(register(contextOf, request)) as Promise<boolean>).then(
      () => 'granted',
      (error: unknown) => (error instanceof GatewayError ? error.code : String(error)),
    );
    expect(figures(permits)).toBe('route 1/0, upstream 1/1');

    upstreamHolder.release();
    request.res.emit('close');

    expect(await outcome).toBe('client_closed');
    expect(figures(permits)).toBe('route 0/0, upstream 0/0');
  });

  it('a request that already ended takes no permit at all', () => {
    const { guard, permits, route, contextOf } = setUp();
    const request = fakeRequest(route);
    request.res.emit('close');
    expect(() => guard.canActivate(register(contextOf, request))).toThrow(GatewayError);
    expect(figures(permits)).toBe('route 0/0, upstream 0/0');
  });

  it('the connection closing (a pipelined response Node never closes) releases the permits too', () => {
    const { guard, permits, route, contextOf } = setUp();
    const request = fakeRequest(route);
    expect(guard.canActivate(register(contextOf, request))).toBe(true);
    expect(figures(permits)).toBe('route 1/0, upstream 1/0');
    request.res.req.socket.emit('close');
    expect(figures(permits)).toBe('route 0/0, upstream 0/0');
  });
});

describe('Semaphore.acquire with an aborted signal', () => {
  it('refuses even when a permit is free, so an abandoned caller never holds one', async () => {
    const semaphore = new Semaphore(1, 1);
    const controller = new AbortController();
    controller.abort();
    await expect(semaphore.acquire({ signal: controller.signal, timeoutMs: 1000 })).rejects.toMatchObject({ reason: 'aborted' });
    expect(semaphore.inUse).toBe(0);
  });
});
