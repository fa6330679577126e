import { Pool } from 'undici';
import type { UpstreamSettings } from '../config/gateway-config.types';
import { TargetBalancer } from './target-balancer';
import type { ResponseSinkFactory, UpstreamClient, UpstreamRequest } from './upstream-client';
import { UpstreamTarget } from './upstream-target';

/**
 * The data-plane client of one upstream: an undici Pool per target, sized from the upstream's
 * `pool` settings, so its sockets, queue and timeouts are its own. `Pool.stream()` writes the
 * response straight into the sink, the cheapest path measured (MEASUREMENTS.md).
 */
export class UndiciUpstreamClient implements UpstreamClient {
  readonly targets: readonly UpstreamTarget[];
  private readonly pools = new Map<UpstreamTarget, Pool>();
  private readonly balancer: TargetBalancer;

  constructor(readonly settings: UpstreamSettings) {
    this.targets = settings.targets.map((url) => new UpstreamTarget(url));
    for (const target of this.targets) {
      this.pools.set(
        target,
        new Pool(target.origin, {
          connections: settings.pool.maxSockets,
          pipelining: 1,
          // Idle sockets close after idleTimeoutMs, or earlier when the upstream announces a shorter
          // `Keep-Alive: timeout` (undici then stays a margin below it), so a request never lands on
          // a socket the upstream is about to close.
          keepAliveTimeout: settings.pool.idleTimeoutMs,
          keepAliveMaxTimeout: settings.pool.idleTimeoutMs,
          connect: { timeout: settings.connectTimeoutMs },
        }),
      );
    }
    this.balancer = new TargetBalancer(this.targets, settings.loadBalancing);
  }

  pickTarget(avoid?: UpstreamTarget): UpstreamTarget {
    return this.balancer.pick(avoid);
  }

  async forward(target: UpstreamTarget, request: UpstreamRequest, sink: ResponseSinkFactory): Promise<void> {
    const pool = this.pools.get(target)!;
    target.inFlight++;
    try {
      await pool.stream(
        {
          method: request.method,
          path: target.basePath + request.path,
          headers: request.headers,
          body: request.body,
          signal: request.signal,
        },
        sink,
      );
    } finally {
      target.inFlight--;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}
