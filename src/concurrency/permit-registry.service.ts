import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { ConcurrencySettings, GatewayConfig } from '../config/gateway-config.types';
import { sameSettings } from '../config/config-diff';
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
  readonly settings: ConcurrencySettings;
  readonly semaphore: Semaphore;
  readonly queueTimeoutMs: number;
}

/** The semaphores of every route and upstream that sets `concurrency`, keyed by id / name. */
@Injectable()
export class PermitRegistry {
  private routes = new Map<string, PermitPool>();
  private upstreams = new Map<string, PermitPool>();

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.apply(config);
  }

  /**
   * Makes `config`'s limits the live ones (a reload). A pool whose `concurrency` did not change
   * is kept with its permits and queue; a changed one is made anew, and requests holding permits
   * of the old one give them back to it.
   */
  apply(config: GatewayConfig): void {
    this.routes = pools('route', this.routes, config.routes.map((r) => [r.id, r.concurrency]));
    this.upstreams = pools('upstream', this.upstreams, Object.values(config.upstreams).map((u) => [u.name, u.concurrency]));
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

function pools(scope: PermitScope, current: ReadonlyMap<string, PermitPool>, wanted: Array<[string, ConcurrencySettings | null]>): Map<string, PermitPool> {
  const next = new Map<string, PermitPool>();
  for (const [name, settings] of wanted) {
    if (settings === null) continue;
    const kept = current.get(name);
    next.set(name, kept && sameSettings(kept.settings, settings) ? kept : pool(scope, name, settings));
  }
  return next;
}

function pool(scope: PermitScope, name: string, settings: ConcurrencySettings): PermitPool {
  return { scope, name, settings, semaphore: new Semaphore(settings.limit, settings.queue), queueTimeoutMs: settings.queueTimeoutMs };
}
