import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { GatewayEnvironment } from './config/environment';
import { GatewayConfigModule } from './config/gateway-config.module';
import type { GatewayConfig } from './config/gateway-config.types';
import { GatewayExceptionFilter } from './errors/gateway-exception.filter';
import { HealthModule } from './health/health.module';
import { ProxyModule } from './proxy/proxy.module';
import { RouteMatchGuard } from './routing/route-match.guard';
import { RoutingModule } from './routing/routing.module';
import { UpstreamModule } from './upstream/upstream.module';

export interface AppModuleOptions {
  readonly config: GatewayConfig;
  readonly environment: GatewayEnvironment;
  /** The @nestjs/config module that loaded the env files (see bootstrap.ts). */
  readonly envModule: DynamicModule;
}

@Module({})
export class AppModule {
  static forRoot({ config, environment, envModule }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        envModule,
        GatewayConfigModule.forRoot(config, environment),
        RoutingModule,
        UpstreamModule,
        HealthModule.forRoot(config.server.managementPrefix),
        ProxyModule,
      ],
      /*
       * The global request pipeline, in the order it runs (DESIGN.md "One request"):
       *   1. RouteMatchGuard      match the route table; 404 / 405 (proxied requests only)
       *   2. ProxyController      stream to the upstream and back
       * Errors from any step     GatewayExceptionFilter, the JSON of CONTRACT §5
       */
      providers: [
        { provide: APP_GUARD, useExisting: RouteMatchGuard },
        { provide: APP_FILTER, useClass: GatewayExceptionFilter },
      ],
    };
  }
}
