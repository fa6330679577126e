import { TargetHealth } from './target-health';

/** Health that never changes: for targets made without health settings (tests, tools). */
const NO_HEALTH_CHECKS = { consecutiveFailures: 0, ejectMs: 1, maxEjectMs: 1 } as const;

/** One base URL of an upstream, with the live figures its balancer reads. */
export class UpstreamTarget {
  readonly origin: string;
  /** The URL's path without a trailing slash ('' for none), prepended to every request path. */
  readonly basePath: string;
  inFlight = 0;

  constructor(
    readonly url: string,
    readonly health: TargetHealth = new TargetHealth(NO_HEALTH_CHECKS, null, () => undefined),
  ) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.basePath = parsed.pathname.replace(/\/+$/, '');
  }

  get healthy(): boolean {
    return this.health.healthy;
  }
}
