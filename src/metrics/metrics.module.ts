import { DynamicModule, Module } from '@nestjs/common';
import { ConcurrencyModule } from '../concurrency/concurrency.module';
import { UpstreamModule } from '../upstream/upstream.module';
import { createMetricsController } from './metrics.controller';
import { MetricsSources } from './metrics-sources.service';

/** The metrics endpoint; GatewayMetrics itself is provided by TelemetryModule (it exists before Nest does). */
@Module({})
export class MetricsModule {
  static forRoot(managementPrefix: string): DynamicModule {
    return {
      module: MetricsModule,
      imports: [ConcurrencyModule, UpstreamModule],
      controllers: [createMetricsController(managementPrefix)],
      providers: [MetricsSources],
    };
  }
}
