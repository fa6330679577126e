import { DynamicModule, Global, Module } from '@nestjs/common';
import { ClsService, ClsServiceManager } from 'nestjs-cls';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { TrafficStats } from '../metrics/traffic-stats';
import type { Telemetry } from './telemetry';
import { GATEWAY_LOGGER } from './telemetry.tokens';

@Global()
@Module({})
export class TelemetryModule {
  static forRoot(telemetry: Telemetry): DynamicModule {
    return {
      module: TelemetryModule,
      providers: [
        { provide: GATEWAY_LOGGER, useValue: telemetry.logger },
        { provide: GatewayMetrics, useValue: telemetry.metrics },
        { provide: TrafficStats, useValue: telemetry.traffic },
        // The request's CLS context is entered by the HTTP server itself (gateway-server.ts), before
        // Fastify and Nest. ClsModule.forRoot() is not imported: it always registers a global guard
        // and interceptor, and a Nest interceptor costs ~10% CPU per request (RxJS, AsyncResource.bind).
        { provide: ClsService, useValue: ClsServiceManager.getClsService() },
      ],
      exports: [GATEWAY_LOGGER, GatewayMetrics, TrafficStats, ClsService],
    };
  }
}
