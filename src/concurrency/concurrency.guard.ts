import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { GatewayError } from '../errors/gateway-error';
import { PermitRegistry, type PermitPool } from './permit-registry.service';
import { SemaphoreRejection, type Permit } from './semaphore';

const RETRY_AFTER = { 'retry-after': '1' } as const;

/**
 * Bulkheads (CONTRACT §3 `concurrency`): a route permit, then an upstream permit. Fails fast
 * with 429 when no queue room is left, or queues up to `queueTimeoutMs`. Every permit held is
 * released from one once-only callback on the response's 'close', which fires on success,
 * error, timeout, upstream reset and client abort alike.
 */
@Injectable()
export class ConcurrencyGuard implements CanActivate {
  constructor(
    private readonly permits: PermitRegistry,
    private readonly metrics: GatewayMetrics,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const route = request.gatewayRoute;
    if (route === null) return true;
    const routePool = this.permits.route(route.id);
    const upstreamPool = this.permits.upstream(route.settings.upstream);
    if (!routePool && !upstreamPool) return true;
    const res = context.switchToHttp().getResponse<FastifyReply>().raw;
    const held: Permit[] = [];
    const releaseAll = (): void => {
      for (const permit of held) permit.release();
    };
    res.once('close', releaseAll);
    // Fast path: both permits at once, without a promise.
    const routeNow = routePool?.semaphore.tryAcquire() ?? null;
    if (routeNow) held.push(routeNow);
    const routeHeld = !routePool || routeNow !== null;
    // The upstream permit is only tried once the route permit is held: route first, always.
    const upstreamNow = routeHeld ? (upstreamPool?.semaphore.tryAcquire() ?? null) : null;
    if (upstreamNow) held.push(upstreamNow);
    const upstreamHeld = !upstreamPool || upstreamNow !== null;
    if (routeHeld && upstreamHeld) return true;
    return this.acquireQueued(routeHeld ? null : routePool!, upstreamHeld ? null : upstreamPool!, held, res).catch(
      (error: unknown) => {
        releaseAll();
        throw error;
      },
    );
  }

  private async acquireQueued(
    routePool: PermitPool | null,
    upstreamPool: PermitPool | null,
    held: Permit[],
    res: ServerResponse,
  ): Promise<boolean> {
    const abort = new AbortController();
    const onClose = (): void => abort.abort();
    res.once('close', onClose);
    try {
      if (routePool) held.push(await this.waitFor(routePool, abort.signal));
      if (upstreamPool) held.push(await this.waitFor(upstreamPool, abort.signal));
      return true;
    } finally {
      res.off('close', onClose);
    }
  }

  /** A permit now, or after waiting in the queue; only real waits are recorded in the queue-wait histogram. */
  private async waitFor(pool: PermitPool, signal: AbortSignal): Promise<Permit> {
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

/** A semaphore refusal as the gateway error the client sees. */
function rejection(pool: PermitPool, error: unknown): unknown {
  if (!(error instanceof SemaphoreRejection)) return error;
  if (error.reason === 'aborted') return new GatewayError('client_closed', 'the client closed the connection while queued');
  const what = `${pool.scope} "${pool.name}"`;
  if (error.reason === 'timeout') {
    return new GatewayError('queue_timeout', `no permit for ${what} within ${pool.queueTimeoutMs} ms`, RETRY_AFTER);
  }
  return new GatewayError('concurrency_limit', `all ${pool.semaphore.limit} permits of ${what} are in use`, RETRY_AFTER);
}
