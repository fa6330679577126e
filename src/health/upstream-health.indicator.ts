import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { UpstreamRegistry } from '../upstream/upstream-registry.service';

/** One target as readiness reports it. */
export interface TargetHealthDetail {
  readonly url: string;
  readonly healthy: boolean;
  /** The last health change (ISO time and reason), or null when it has always been healthy. */
  readonly since: string | null;
  readonly reason: string | null;
}

/**
 * Readiness per upstream that has a `healthCheck`: up while at least one of its targets is
 * healthy, with a detail entry per target.
 */
@Injectable()
export class UpstreamHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly upstreams: UpstreamRegistry,
  ) {}

  /** The upstreams readiness depends on: those with active health checks. */
  get checkedUpstreams(): string[] {
    return this.upstreams.names.filter((name) => this.upstreams.client(name).settings.healthCheck !== null);
  }

  check(name: string): HealthIndicatorResult {
    const targets: TargetHealthDetail[] = this.upstreams.client(name).targets.map((target) => {
      const last = target.health.lastTransition;
      return { url: target.url, healthy: target.healthy, since: last ? new Date(last.at).toISOString() : null, reason: last?.reason ?? null };
    });
    const session = this.indicator.check(`upstream:${name}`);
    return targets.some((t) => t.healthy) ? session.up({ targets }) : session.down({ targets });
  }
}
