import { Injectable, OnModuleInit } from '@nestjs/common';
import { PermitRegistry } from '../concurrency/permit-registry.service';
import { UpstreamRegistry } from '../upstream/upstream-registry.service';
import { GatewayMetrics } from './gateway-metrics';

/** Points the gauges that are read at scrape time at the live permit and upstream registries. */
@Injectable()
export class MetricsSources implements OnModuleInit {
  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly permits: PermitRegistry,
    private readonly upstreams: UpstreamRegistry,
  ) {}

  onModuleInit(): void {
    this.metrics.readPermitsFrom(() =>
      this.permits.all().map((p) => ({ scope: p.scope, name: p.name, inUse: p.semaphore.inUse, queued: p.semaphore.queued })),
    );
    this.metrics.readTargetsFrom(() =>
      this.upstreams.names.flatMap((name) =>
        this.upstreams.client(name).targets.map((t) => ({ upstream: name, target: t.url, healthy: t.healthy })),
      ),
    );
  }
}
