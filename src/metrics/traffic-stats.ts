import { RecentTraffic } from './recent-traffic';

export interface TrafficSnapshot {
  /** Requests under way: matched to the route (or forwarded to the upstream) and not yet ended. */
  readonly inFlight: number;
  readonly requests: number;
  /** Requests by the status answered, since start. */
  readonly byStatus: Record<string, number>;
  /** Requests the gateway answered itself, by error code, since start. */
  readonly byCode: Record<string, number>;
  readonly requestsPerSecond: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** The live figures of one route or one upstream: counters since start and the last ten seconds. */
export class TrafficFigures {
  inFlight = 0;
  private requests = 0;
  private readonly byStatus = new Map<number, number>();
  private readonly byCode = new Map<string, number>();
  private readonly recent = new RecentTraffic();

  record(nowMs: number, status: number, code: string | null, latencyMs: number): void {
    this.requests++;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    if (code !== null) this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
    this.recent.record(nowMs, latencyMs);
  }

  snapshot(nowMs: number): TrafficSnapshot {
    return {
      inFlight: this.inFlight,
      requests: this.requests,
      byStatus: Object.fromEntries([...this.byStatus].sort((a, b) => a[0] - b[0])),
      byCode: Object.fromEntries([...this.byCode].sort()),
      ...this.recent.summary(nowMs),
    };
  }
}

/**
 * Figures per route id and per upstream name, kept across reloads so a reload does not reset
 * them; entries for routes and upstreams a reload removed are dropped (`retain`).
 */
export class TrafficStats {
  private readonly routes = new Map<string, TrafficFigures>();
  private readonly upstreams = new Map<string, TrafficFigures>();

  route(id: string): TrafficFigures {
    return figuresOf(this.routes, id);
  }

  upstream(name: string): TrafficFigures {
    return figuresOf(this.upstreams, name);
  }

  retain(routeIds: ReadonlySet<string>, upstreamNames: ReadonlySet<string>): void {
    for (const id of this.routes.keys()) if (!routeIds.has(id)) this.routes.delete(id);
    for (const name of this.upstreams.keys()) if (!upstreamNames.has(name)) this.upstreams.delete(name);
  }
}

function figuresOf(map: Map<string, TrafficFigures>, key: string): TrafficFigures {
  let figures = map.get(key);
  if (!figures) map.set(key, (figures = new TrafficFigures()));
  return figures;
}
