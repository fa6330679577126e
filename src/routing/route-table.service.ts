import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { PermitRegistry } from '../concurrency/permit-registry.service';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { GatewayConfig } from '../config/gateway-config.types';
import { TrafficStats } from '../metrics/traffic-stats';
import type { BoundPlugin } from '../plugins/plugin-chain';
import { PluginRegistry } from '../plugins/plugin-registry.service';
import { UpstreamRegistry } from '../upstream/upstream-registry.service';
import { RouteBinding } from './route-binding';
import { RouteTable } from './route-table';

/**
 * Holds the live config generation: the route table and the config it was compiled from. A
 * reload publishes a new one in a single assignment; requests already matched keep the routes
 * (and, through their bindings, the clients and permit pools) of the generation they started on.
 */
/** A config made ready to publish: its plugins validated and configured. */
export interface PreparedConfig {
  readonly config: GatewayConfig;
  readonly plugins: ReadonlyMap<string, readonly BoundPlugin[]>;
}

@Injectable()
export class RouteTableService implements OnModuleInit {
  private table!: RouteTable;
  private live!: GatewayConfig;
  /** Counts publications: 1 for the config read at start, one more per reload that changed something. */
  generation = 0;
  publishedAt = new Date();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly initial: GatewayConfig,
    private readonly upstreams: UpstreamRegistry,
    private readonly permits: PermitRegistry,
    private readonly stats: TrafficStats,
    private readonly plugins: PluginRegistry,
  ) {}

  /** After every provider exists (plugins are providers of their own modules); a bad plugin config stops start-up. */
  onModuleInit(): void {
    this.publish(this.prepare(this.initial));
  }

  get current(): RouteTable {
    return this.table;
  }

  /** The config the live table was compiled from. */
  get config(): GatewayConfig {
    return this.live;
  }

  /** Validates and configures `config`'s plugins; throws ConfigError naming every bad field. Changes nothing. */
  prepare(config: GatewayConfig): PreparedConfig {
    return { config, plugins: this.plugins.compile(config) };
  }

  /**
   * Compiles the routes, binds each to the upstream clients and permit pools live now (apply the
   * config to UpstreamRegistry and PermitRegistry first) and to its plugins, then swaps the table.
   */
  publish({ config, plugins }: PreparedConfig): void {
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
          plugins.get(id) ?? [],
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
