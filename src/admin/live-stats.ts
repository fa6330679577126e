import type { PermitFigures, PermitRegistry } from '../concurrency/permit-registry.service';
import type { GatewayConfig } from '../config/gateway-config.types';
import type { TrafficSnapshot, TrafficStats } from '../metrics/traffic-stats';
import type { UpstreamRegistry } from '../upstream/upstream-registry.service';

interface PermitStats {
  /** Permits held now; `limit` null where the route or upstream sets no `concurrency`. */
  readonly permitsInUse: number;
  readonly queued: number;
  readonly limit: number | null;
  readonly queueLimit: number | null;
}

export type RouteStats = TrafficSnapshot & PermitStats & { readonly upstream: string };

export interface TargetStats {
  readonly url: string;
  readonly healthy: boolean;
  readonly inFlight: number;
  /** The last health change, or null when it has always been healthy. */
  readonly since: string | null;
  readonly reason: string | null;
}

export type UpstreamStats = TrafficSnapshot & PermitStats & { readonly targets: TargetStats[] };

export interface LiveStats {
  readonly at: string;
  /** Requests per second and percentiles cover this many seconds. */
  readonly windowSeconds: number;
  readonly routes: Record<string, RouteStats>;
  readonly upstreams: Record<string, UpstreamStats>;
}

export interface StatsSources {
  readonly config: GatewayConfig;
  readonly permits: PermitRegistry;
  readonly upstreams: UpstreamRegistry;
  readonly traffic: TrafficStats;
}

/** `admin/stats` (docs/operations.md "Admin API"): per route and upstream, permits against limits and the traffic figures. */
export function liveStats({ config, permits, upstreams, traffic }: StatsSources, nowMs: number): LiveStats {
  const routes: Record<string, RouteStats> = {};
  for (const route of config.routes) {
    routes[route.id] = {
      upstream: route.upstream,
      ...traffic.route(route.id).snapshot(nowMs),
      ...permitStats(permits.figures('route', route.id)),
    };
  }
  const result: Record<string, UpstreamStats> = {};
  for (const name of Object.keys(config.upstreams)) {
    const targets = upstreams.client(name).targets.map((t): TargetStats => {
      const last = t.health.lastTransition;
      return { url: t.url, healthy: t.healthy, inFlight: t.inFlight, since: last ? new Date(last.at).toISOString() : null, reason: last?.reason ?? null };
    });
    result[name] = {
      ...traffic.upstream(name).snapshot(nowMs),
      // At the upstream right now: the calls its targets are serving.
      inFlight: targets.reduce((sum, t) => sum + t.inFlight, 0),
      ...permitStats(permits.figures('upstream', name)),
      targets,
    };
  }
  return { at: new Date(nowMs).toISOString(), windowSeconds: 10, routes, upstreams: result };
}

function permitStats(figures: PermitFigures): PermitStats {
  return { permitsInUse: figures.inFlight, queued: figures.queued, limit: figures.limit, queueLimit: figures.queueLimit };
}
