import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { ConcurrencySettings, GatewayConfig } from '../config/gateway-config.types';
import { Semaphore } from './semaphore';

export type PermitScope = 'route' | 'upstream';

export interface PermitFigures {
  readonly inFlight: number;
  readonly queued: number;
  readonly limit: number | null;
  readonly queueLimit: number | null;
}

export interface PermitPool {
  readonly scope: PermitScope;
  readonly name: string;
  readonly semaphore: Semaphore;
  readonly queueTimeoutMs: number;
}

/** The semaphores of every route and upstream that sets `concurrency`, keyed by id / name. */
@Injectable()
export class PermitRegistry {
  private readonly routes = new Map<string, PermitPool>();
  private readonly upstreams = new Map<string, PermitPool>();

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    for (const route of config.routes) {
      if (route.concurrency) this.routes.set(route.id, pool('route', route.id, route.concurrency));
    }
    for (const upstream of Object.values(config.upstreams)) {
      if (upstream.concurrency) this.upstreams.set(upstream.name, pool('upstream', upstream.name, upstream.concurrency));
    }
  }

  route(id: string): PermitPool | undefined {
    return this.routes.get(id);
  }

  upstream(name: string): PermitPool | undefined {
    return this.upstreams.get(name);
  }

  /** Every pool, for gauges and the admin stats. */
  all(): PermitPool[] {
    return [...this.routes.values(), ...this.upstreams.values()];
  }

  figures(scope: PermitScope, name: string): PermitFigures {
    const found = scope === 'route' ? this.routes.get(name) : this.upstreams.get(name);
    if (!found) return { inFlight: 0, queued: 0, limit: null, queueLimit: null };
    return {
      inFlight: found.semaphore.inUse,
      queued: found.semaphore.queued,
      limit: found.semaphore.limit,
      queueLimit: found.semaphore.maxQueue,
    };
  }
}

function pool(scope: PermitScope, name: string, settings: ConcurrencySettings): PermitPool {
  return { scope, name, semaphore: new Semaphore(settings.limit, settings.queue), queueTimeoutMs: settings.queueTimeoutMs };
}
