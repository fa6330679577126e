import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AdminModule } from './admin/admin.module';
import { ConcurrencyGuard } from './concurrency/concurrency.guard';
import { ConcurrencyModule } from './concurrency/concurrency.module';
import type { GatewayEnvironment } from './config/environment';
import { GatewayConfigModule } from './config/gateway-config.module';
import type { GatewayConfig } from './config/gateway-config.types';
import { DashboardModule } from './dashboard/dashboard.module';
import { GatewayExceptionFilter } from './errors/gateway-exception.filter';
import { HealthModule } from './health/health.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import type { TrafficGate } from './lifecycle/traffic-gate';
import { PluginGuard } from './plugins/plugin.guard';
import { GatewayPluginsModule, type PluginModule } from './plugins/plugins.module';
import { MetricsModule } from './metrics/metrics.module';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { ProxyModule } from './proxy/proxy.module';
import { RouteMatchGuard } from './routing/route-match.guard';
import { RoutingModule } from './routing/routing.module';
import type { Telemetry } from './telemetry/telemetry';
import { TelemetryModule } from './telemetry/telemetry.module';
import { DeadlineGuard } from './timeout/deadline.guard';
import { TimeoutModule } from './timeout/timeout.module';
import { UpstreamModule } from './upstream/upstream.module';

export interface AppModuleOptions {
  readonly config: GatewayConfig;
  readonly environment: GatewayEnvironment;
  readonly telemetry: Telemetry;
  readonly gate: TrafficGate;
  /** The @nestjs/config module that loaded the env files (see bootstrap.ts). */
  readonly envModule: DynamicModule;
  /** Plugin modules beside the shipped ones (GatewayModule.forRoot, GATEWAY_PLUGINS). */
  readonly plugins: readonly PluginModule[];
}

@Module({})
export class AppModule {
  static forRoot({ config, environment, telemetry, gate, envModule, plugins }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        envModule,
        TelemetryModule.forRoot(telemetry),
        LifecycleModule.forRoot(gate),
        GatewayConfigModule.forRoot(config, environment),
        GatewayPluginsModule.forRoot(plugins),
        RoutingModule,
        RateLimitModule,
        ConcurrencyModule,
        TimeoutModule,
        UpstreamModule,
        HealthModule.forRoot(config.server.managementPrefix),
        MetricsModule.forRoot(config.server.managementPrefix),
        AdminModule.forRoot(config.server.managementPrefix, environment.adminToken),
        DashboardModule.forRoot(config.server.managementPrefix, environment.adminToken),
        // The policies every proxied request passes, in this order (see the pipeline below).
        ProxyModule.forRoot([RouteMatchGuard, PluginGuard, RateLimitGuard, ConcurrencyGuard, DeadlineGuard]),
      ],
      /*
       * The pipeline of a proxied request, in the order it runs. Management endpoints are Nest
       * controllers on Fastify and skip steps 1 to 6.
       *   0. gateway-server.ts    trace context (CLS), X-Request-Id, access log + metrics on 'close';
       *                           absolute-form targets, CONNECT, bad Host refused (400);
       *                           while draining, 503 shutting_down (TrafficGate);
       *                           management paths to Fastify, every other request to ProxyPipeline
       *   ProxyPipeline           runs the guards of ProxyModule.forRoot in order, then any APP_GUARD
       *                           (a team's own), then ProxyService, as Nest's router would:
       *   1. RouteMatchGuard      match the live route table (swapped whole by a reload); 404 / 405;
       *                           disguised path separators and malformed escapes 400; the request keeps the route's binding
       *   2. PluginGuard          the route's plugins in order (api-key 401, cors preflight 204 / 403,
       *                           a team's own); 500 plugin_error when one throws
       *   3. RateLimitGuard       the route's rateLimit (@nestjs/throttler; memory or Redis); 429 rate_limited,
       *                           503 rate_limit_unavailable with rateLimitFailMode closed
       *   4. ConcurrencyGuard     route permit, then upstream permit; 429 concurrency_limit / queue_timeout
       *   5. DeadlineGuard        the request's cancellation signal: route timeoutMs (504) and client abort (499)
       *   6. ProxyService         stream to the upstream and back, retrying where allowed;
       *                           the plugins' onResponse on the way back, onComplete at the end
       * Errors from any step     GatewayExceptionFilter, the JSON of docs/errors.md "Errors and status codes"
       */
      providers: [{ provide: APP_FILTER, useExisting: GatewayExceptionFilter }],
    };
  }
}
