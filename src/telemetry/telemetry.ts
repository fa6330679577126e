import type { LogLevel } from '../config/environment';
import type { DestinationStream } from 'pino';
import { createGatewayLogger, type GatewayLogger } from '../logging/gateway-logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { TrafficStats } from '../metrics/traffic-stats';
import { RequestObserver } from './request-observer';
import { StdoutDestination } from './stdout-destination';

/**
 * The logger, the metrics and the request observer of one gateway. They are created before
 * the Nest application because the HTTP server (made first, for Fastify) already records
 * requests, and handed to Nest as provider values.
 */
export class Telemetry {
  readonly metrics = new GatewayMetrics();
  /** Per route and upstream figures for the admin API (requests/s, percentiles, counts by code). */
  readonly traffic = new TrafficStats();
  readonly observer: RequestObserver;

  readonly logger: GatewayLogger;
  private readonly destination: DestinationStream | StdoutDestination;

  /** `destination` defaults to stdout; tests pass their own to read the lines. */
  constructor(level: LogLevel, destination?: DestinationStream) {
    this.destination = destination ?? new StdoutDestination();
    this.logger = createGatewayLogger(level, this.destination);
    this.observer = new RequestObserver(this.logger, this.destination, this.metrics);
  }

  /** Writes out buffered log lines now (start-up lines scripts wait for; before exit). */
  flush(): Promise<void> {
    const destination = this.destination;
    if (!(destination instanceof StdoutDestination)) return Promise.resolve();
    return new Promise((resolve) => destination.flush(() => resolve()));
  }
}
