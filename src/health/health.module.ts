import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { UpstreamModule } from '../upstream/upstream.module';
import { ActiveHealthChecks } from './active-health-checks';
import { createHealthController } from './health.controller';
import { UpstreamHealthIndicator } from './upstream-health.indicator';

/** Liveness, readiness (@nestjs/terminus) and the active upstream health checks behind it. */
@Module({})
export class HealthModule {
  static forRoot(managementPrefix: string): DynamicModule {
    return {
      module: HealthModule,
      // Readiness failures are answered (503 with the details), not logged as errors each probe.
      imports: [TerminusModule.forRoot({ logger: false }), UpstreamModule],
      controllers: [createHealthController(managementPrefix)],
      providers: [ActiveHealthChecks, UpstreamHealthIndicator],
      exports: [ActiveHealthChecks],
    };
  }
}
