import type { PermitPool } from '../concurrency/permit-registry.service';
import type { TrafficFigures } from '../metrics/traffic-stats';
import type { BoundPlugin } from '../plugins/plugin-chain';
import type { UpstreamClient } from '../upstream/upstream-client';

/**
 * What a route of one config generation uses at run time, resolved when that generation is
 * published: its upstream's client, its permit pools, its live figures and its plugins. A request takes
 * all of them from the route it matched, so it finishes on the generation it started with
 * however many reloads happen meanwhile.
 */
export class RouteBinding {
  constructor(
    readonly client: UpstreamClient,
    readonly routePermits: PermitPool | null,
    readonly upstreamPermits: PermitPool | null,
    readonly routeTraffic: TrafficFigures,
    readonly upstreamTraffic: TrafficFigures,
    /** The route's plugins, configured for this generation, in the route's order. */
    readonly plugins: readonly BoundPlugin[],
  ) {}

  /** A request matched the route: it holds the client (a retired one closes after its last request). */
  begin(): void {
    this.routeTraffic.inFlight++;
    this.client.lease();
  }

  /** Called once when that request ends (see RequestEnd); bound once, so no closure per request. */
  readonly end = (): void => {
    this.routeTraffic.inFlight--;
    this.client.release();
  };
}
