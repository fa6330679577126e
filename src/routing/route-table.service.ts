import { Inject, Injectable } from '@nestjs/common';
import { PermitRegistry } from '../concurrency/permit-registry.service';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { GatewayConfig } from '../config/gateway-config.types';
import { TrafficStats } from '../metrics/traffic-stats';
import { UpstreamRegistry } from '../upstream/upstream-registry.service';
import { RouteBinding } from './route-binding';
import { RouteTable } from './route-table';

/**
 * Holds the live config generation: the route table and the config it was compiled from. A
 * reload publishes a new one in a single assignment; requests already matched keep the routes
 * (and, through their bindings, the clients and permit pools) of the generation they started on.
 */
@Injectable()
export class RouteTableService {
  private table!: RouteTable;
  private live!: GatewayConfig;
  /** Counts publications: 1 for the config read at start, one more per reload that changed something. */
  generation = 0;
  publishedAt = new Date();

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly upstreams: UpstreamRegistry,
    private readonly permits: PermitRegistry,
    private readonly stats: TrafficStats,
  ) {
    this.publish(config);
  }

  get current(): RouteTable {
    return this.table;
  }

  /** The config the live table was compiled from. */
  get config(): GatewayConfig {
    return this.live;
  }

  /**
   * Compiles `config`'s routes, binds each to the upstream clients and permit pools live now
   * (apply `config` to UpstreamRegistry and PermitRegistry first), then swaps the table.
   */
  publish(config: GatewayConfig): void {
    const table = new RouteTable(config.routes, config.server.managementPrefix);
    for (const route of table.routes) {
      const { id, upstream } = route.settings;
      route.bind(
        new RouteBinding(
          this.upstreams.client(upstream),
          this.permits.route(id) ?? null,
          this.permits.upstream(upstream) ?? null,
          this.stats.route(id),
          this.stats.upstream(upstream),
        ),
      );
    }
    this.stats.retain(new Set(config.routes.map((r) => r.id)), new Set(Object.keys(config.upstreams)));
    this.table = table;
    this.live = config;
    this.generation++;
    this.publishedAt = new Date();
  }
}
