import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics';
import { RouteMeters } from './route-meters';

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const QUEUE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface PermitGaugeSource {
  readonly scope: 'route' | 'upstream';
  readonly name: string;
  readonly inUse: number;
  readonly queued: number;
}

export interface TargetHealthSource {
  readonly upstream: string;
  readonly target: string;
  readonly healthy: boolean;
}

/**
 * The gateway's Prometheus metrics (docs/observability.md "Metrics"; names are stable, dashboards depend on them),
 * in a registry of their own. Label values are bounded: route ids, upstream names, method
 * names from a fixed list, error codes from the catalogue; never raw paths.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private permitSource: () => readonly PermitGaugeSource[] = () => [];
  private targetSource: () => readonly TargetHealthSource[] = () => [];
  private rateLimitKeySource: () => number | null = () => null;
  private readonly metersByRoute = new Map<string, RouteMeters>();

  readonly requests = new FastCounter({
    name: 'gateway_requests_total',
    help: 'Requests answered, by route, method, status class and gateway error code ("" when the upstream answered)',
    labelNames: ['route', 'method', 'status_class', 'code'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new FastHistogram({
    name: 'gateway_request_duration_seconds',
    help: 'Time from request arrival to the end of the response, by route',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamDuration = new FastHistogram({
    name: 'gateway_upstream_duration_seconds',
    help: 'Time from the upstream call to its response headers, by upstream',
    labelNames: ['upstream'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: 'gateway_upstream_errors_total',
    help: 'Failed upstream calls by kind: refused, reset, timeout, invalid',
    labelNames: ['upstream', 'kind'] as const,
    registers: [this.registry],
  });

  readonly permitsInUse = new Gauge({
    name: 'gateway_permits_in_use',
    help: 'Concurrency permits held, per route or upstream',
    labelNames: ['scope', 'name'] as const,
    registers: [this.registry],
    collect: () => this.collectPermits(),
  });

  readonly permitsQueued = new Gauge({
    name: 'gateway_permits_queued',
    help: 'Requests waiting for a concurrency permit, per route or upstream',
    labelNames: ['scope', 'name'] as const,
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'gateway_queue_wait_seconds',
    help: 'Time requests waited in a concurrency queue (granted or not)',
    labelNames: ['scope', 'name'] as const,
    buckets: QUEUE_BUCKETS,
    registers: [this.registry],
  });

  readonly rejections = new Counter({
    name: 'gateway_rejections_total',
    help: 'Requests refused by a policy (rate limit, concurrency limit, queue timeout), by route and code',
    labelNames: ['route', 'code'] as const,
    registers: [this.registry],
  });

  readonly rateLimitStoreErrors = new Counter({
    name: 'gateway_rate_limit_store_errors_total',
    help: 'Rate-limit hits the shared store (Redis) could not answer within 50 ms or at all; rateLimitFailMode decided those requests',
    registers: [this.registry],
  });

  readonly rateLimitKeys = new Gauge({
    name: 'gateway_rate_limit_keys',
    help: 'Rate-limit windows held by the in-process store (absent with Redis)',
    registers: [this.registry],
    collect: () => {
      const size = this.rateLimitKeySource();
      if (size !== null) this.rateLimitKeys.set(size);
    },
  });

  readonly targetHealthy = new Gauge({
    name: 'gateway_upstream_target_healthy',
    help: '1 when the target is considered healthy',
    labelNames: ['upstream', 'target'] as const,
    registers: [this.registry],
    collect: () => {
      // Reset first: targets a reload removed must not linger with their last value.
      this.targetHealthy.reset();
      for (const t of this.targetSource()) this.targetHealthy.set({ upstream: t.upstream, target: t.target }, t.healthy ? 1 : 0);
    },
  });

  readonly websocketsOpen = new Gauge({
    name: 'gateway_websockets_open',
    help: 'WebSocket connections open through the gateway, by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly configReloads = new Counter({
    name: 'gateway_config_reloads_total',
    help: 'Config reloads by result (success, failure)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly requestBytes = new FastCounter({
    name: 'gateway_request_bytes_total',
    help: 'Request body bytes received, by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly responseBytes = new FastCounter({
    name: 'gateway_response_bytes_total',
    help: 'Bytes written to clients (status line, headers and body), by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The request metrics of one route ('' for requests no route matched), resolved once. */
  routeMeters(route: string): RouteMeters {
    let meters = this.metersByRoute.get(route);
    if (meters === undefined) this.metersByRoute.set(route, (meters = new RouteMeters(this, route)));
    return meters;
  }

  /** Where the permit gauges read their live values at scrape time. */
  readPermitsFrom(source: () => readonly PermitGaugeSource[]): void {
    this.permitSource = source;
  }

  readTargetsFrom(source: () => readonly TargetHealthSource[]): void {
    this.targetSource = source;
  }

  readRateLimitKeysFrom(source: () => number | null): void {
    this.rateLimitKeySource = source;
  }

  private collectPermits(): void {
    this.permitsInUse.reset();
    this.permitsQueued.reset();
    for (const p of this.permitSource()) {
      const labels = { scope: p.scope, name: p.name };
      this.permitsInUse.set(labels, p.inUse);
      this.permitsQueued.set(labels, p.queued);
    }
  }
}
