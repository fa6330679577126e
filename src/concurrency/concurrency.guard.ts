import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { ProxiedRequest } from '../proxy/proxied-request';
import { ClsService } from 'nestjs-cls';
import { performance } from 'node:perf_hooks';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { GatewayError } from '../errors/gateway-error';
import type { RequestEnd } from '../lifecycle/request-end';
import type { RequestContext } from '../trace/request-context';
import { HeldPermits } from './held-permits';
import type { PermitPool } from './permit-registry.service';
import { SemaphoreRejection, type Permit } from './semaphore';

const RETRY_AFTER = { 'retry-after': '1' } as const;

/**
 * Bulkheads (docs/configuration.md "Config file reference" `concurrency`): a route permit, then an upstream permit. Fails fast
 * with 429 when no queue room is left, or queues up to `queueTimeoutMs`. Every permit held is
 * released once, when the request ends (RequestEnd: success, error, timeout, upstream reset,
 * client abort, or the connection under a pipelined request closing); one granted after that
 * is given straight back and the request stops.
 */
@Injectable()
export class ConcurrencyGuard implements CanActivate {
  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly cls: ClsService<RequestContext>,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<ProxiedRequest>();
    const route = request.gatewayRoute;
    if (route === null) return true;
    // The pools of the generation the route came from: a reload meanwhile does not move the request.
    const { routePermits: routePool, upstreamPermits: upstreamPool } = route.binding;
    if (!routePool && !upstreamPool) return true;
    const end = this.cls.get()?.end;
    // gateway-server.ts gives every proxied request one; without it no permit could be given back.
    if (!end) throw new Error('a proxied request without a RequestEnd');
    if (end.ended) throw clientClosedWhileQueued();
    const held = new HeldPermits();
    end.onEnd(held.releaseAll);
    // Fast path: both permits at once, without a promise.
    const routeNow = routePool?.semaphore.tryAcquire() ?? null;
    if (routeNow) held.add(routeNow);
    const routeHeld = !routePool || routeNow !== null;
    // The upstream permit is only tried once the route permit is held: route first, always.
    const upstreamNow = routeHeld ? (upstreamPool?.semaphore.tryAcquire() ?? null) : null;
    if (upstreamNow) held.add(upstreamNow);
    const upstreamHeld = !upstreamPool || upstreamNow !== null;
    if (routeHeld && upstreamHeld) return true;
    return this.acquireQueued(routeHeld ? null : routePool!, upstreamHeld ? null : upstreamPool!, held, end).catch((error: unknown) => {
      held.releaseAll();
      throw error;
    });
  }

  private async acquireQueued(routePool: PermitPool | null, upstreamPool: PermitPool | null, held: HeldPermits, end: RequestEnd): Promise<boolean> {
    const abort = new AbortController();
    const onEnd = (): void => abort.abort();
    end.onEnd(onEnd);
    try {
      // After every wait: a request that ended meanwhile gives back what it got and stops.
      if (routePool && !held.add(await this.waitFor(routePool, abort.signal))) throw clientClosedWhileQueued();
      if (upstreamPool && !held.add(await this.waitFor(upstreamPool, abort.signal))) throw clientClosedWhileQueued();
      return true;
    } finally {
      end.off(onEnd);
    }
  }

  /** A permit now, or after waiting in the queue; only real waits are recorded in the queue-wait histogram. */
  private async waitFor(pool: PermitPool, signal: AbortSignal): Promise<Permit> {
    if (signal.aborted) throw clientClosedWhileQueued();
    const now = pool.semaphore.tryAcquire();
    if (now) return now;
    const startedAt = performance.now();
    const observe = (): void => this.metrics.queueWait.observe({ scope: pool.scope, name: pool.name }, (performance.now() - startedAt) / 1000);
    try {
      const permit = await pool.semaphore.acquire({ signal, timeoutMs: pool.queueTimeoutMs });
      observe();
      return permit;
    } catch (error) {
      if (!(error instanceof SemaphoreRejection && error.reason === 'queue_full')) observe();
      throw rejection(pool, error);
    }
  }
}

function clientClosedWhileQueued(): GatewayError {
  return new GatewayError('client_closed', 'the client closed the connection while queued');
}

/** A semaphore refusal as the gateway error the client sees. */
function rejection(pool: PermitPool, error: unknown): unknown {
  if (!(error instanceof SemaphoreRejection)) return error;
  if (error.reason === 'aborted') return clientClosedWhileQueued();
  const what = `${pool.scope} "${pool.name}"`;
  if (error.reason === 'timeout') {
    return new GatewayError('queue_timeout', `no permit for ${what} within ${pool.queueTimeoutMs} ms`, RETRY_AFTER);
  }
  return new GatewayError('concurrency_limit', `all ${pool.semaphore.limit} permits of ${what} are in use`, RETRY_AFTER);
}
