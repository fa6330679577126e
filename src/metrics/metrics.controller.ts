import { Controller, Get, Res, type Type } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { GatewayMetrics } from './gateway-metrics';

/** `GET <managementPrefix>/metrics` in the Prometheus text format. Made per prefix, like the health controller. */
export function createMetricsController(managementPrefix: string): Type<unknown> {
  @Controller(managementPrefix)
  class MetricsController {
    constructor(private readonly metrics: GatewayMetrics) {}

    @Get('metrics')
    async metricsText(@Res() reply: FastifyReply): Promise<void> {
      const text = await this.metrics.registry.metrics();
      void reply.header('content-type', this.metrics.registry.contentType).header('cache-control', 'no-store').send(text);
    }
  }
  return MetricsController;
}
