import { DynamicModule, Global, Module } from '@nestjs/common';
import { GatewayMetrics } from '../metrics/gateway-metrics';
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
      ],
      exports: [GATEWAY_LOGGER, GatewayMetrics],
    };
  }
}
