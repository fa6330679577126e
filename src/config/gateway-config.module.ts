import { DynamicModule, Global, Module } from '@nestjs/common';
import { GATEWAY_CONFIG, GATEWAY_ENVIRONMENT } from './config.tokens';
import type { GatewayEnvironment } from './environment';
import type { GatewayConfig } from './gateway-config.types';

/** Hands the validated, frozen config and environment to every module. */
@Global()
@Module({})
export class GatewayConfigModule {
  static forRoot(config: GatewayConfig, environment: GatewayEnvironment): DynamicModule {
    return {
      module: GatewayConfigModule,
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: GATEWAY_ENVIRONMENT, useValue: environment },
      ],
      exports: [GATEWAY_CONFIG, GATEWAY_ENVIRONMENT],
    };
  }
}
