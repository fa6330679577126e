import { Client, Pool } from './undici-parts';
import type { UpstreamSettings } from '../config/gateway-config.types';
import { TargetBalancer } from './target-balancer';
import { ForwardHandler } from './forward-handler';
import { UpgradeHandler, type OnUpgraded } from './upgrade-handler';
import type { AttemptProgress, ResponseSinkFactory, UpstreamClient, UpstreamRequest } from './upstream-client';
import { TargetHealth, type HealthTransition } from './target-health';
import { UpstreamTarget } from './upstream-target';

/**
 * The data-plane client of one upstream: an undici Pool per target, sized from the upstream's
 * `pool` settings, so its sockets, queue and timeouts are its own. `Pool.dispatch()` with a
 * handler of our own (ForwardHandler) writes the response straight into the sink.
 */
export class UndiciUpstreamClient implements UpstreamClient {
  readonly targets: readonly UpstreamTarget[];
  private readonly pools = new Map<UpstreamTarget, Pool>();
  private readonly balancer: TargetBalancer;
  private leases = 0;
  private onLastRelease: (() => void) | null = null;

  /** `onHealthChange` hears every health transition of every target (the log line). */
  constructor(
    readonly settings: UpstreamSettings,
    onHealthChange: (target: UpstreamTarget, transition: HealthTransition) => void = () => undefined,
  ) {
    this.targets = settings.targets.map((url) => {
      const health = new TargetHealth(settings.passiveHealth, settings.healthCheck, (transition) => onHealthChange(target, transition));
      const target = new UpstreamTarget(url, health);
      return target;
    });
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

  pickTarget(avoid?: UpstreamTarget): UpstreamTarget | null {
    return this.balancer.pick(avoid);
  }

  /** Not async: the attempt's promise is the only one (the handler counts the target's in-flight requests). */
  forward(target: UpstreamTarget, request: UpstreamRequest, sink: ResponseSinkFactory, progress: AttemptProgress): Promise<void> {
    const { signal, body } = request;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const pool = this.pools.get(target)!;
    return new Promise<void>((resolve, reject) => {
      pool.dispatch(
        { method: request.method, path: target.basePath + request.path, headers: request.headers, body },
        new ForwardHandler(target, signal, sink, progress, resolve, reject, body),
      );
    });
  }

  async upgrade(target: UpstreamTarget, request: UpstreamRequest & { readonly protocol: string }, sink: ResponseSinkFactory, onUpgraded: OnUpgraded): Promise<void> {
    const { signal } = request;
    if (signal.aborted) throw signal.reason;
    // A connection of its own: a switched socket leaves its client for good, and one whose
    // handshake is abandoned (deadline, client gone) must be closed, not left in a pool.
    const connection = new Client(target.origin, { connect: { timeout: this.settings.connectTimeoutMs } });
    try {
      await new Promise<void>((resolve, reject) => {
        connection.dispatch(
          { method: 'GET', path: target.basePath + request.path, headers: request.headers, upgrade: request.protocol },
          new UpgradeHandler(target, signal, sink, { requestWritten: false }, resolve, reject, null, onUpgraded),
        );
      });
      void connection.close();
    } catch (error) {
      void connection.destroy();
      throw error;
    }
  }

  lease(): void {
    this.leases++;
  }

  release(): void {
    if (--this.leases === 0) this.onLastRelease?.();
  }

  retire(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.onLastRelease = () => {
        this.onLastRelease = null;
        this.close().then(resolve, reject);
      };
      if (this.leases === 0) this.onLastRelease();
    });
  }

  async close(): Promise<void> {
    for (const target of this.targets) target.health.dispose();
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}
