import type { LogLevel } from '../config/environment';
import pino, { type DestinationStream } from 'pino';
import { createGatewayLogger, type GatewayLogger } from '../logging/gateway-logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { RequestObserver } from './request-observer';

/**
 * The logger, the metrics and the request observer of one gateway. They are created before
 * the Nest application because the HTTP server (made first, for Fastify) already records
 * requests, and handed to Nest as provider values.
 */
export class Telemetry {
  readonly metrics = new GatewayMetrics();
  readonly observer: RequestObserver;

  readonly logger: GatewayLogger;

  constructor(level: LogLevel, destination: DestinationStream = pino.destination({ dest: 1, sync: false })) {
    this.logger = createGatewayLogger(level, destination);
    this.observer = new RequestObserver(this.logger, destination, this.metrics);
  }
}
