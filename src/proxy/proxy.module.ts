import { CanActivate, DynamicModule, Module, Type } from '@nestjs/common';
import { GatewayExceptionFilter } from '../errors/gateway-exception.filter';
import { UpstreamModule } from '../upstream/upstream.module';
import { WebSocketForwarder } from '../websocket/websocket-forwarder';
import { PROXY_GUARDS, ProxyPipeline } from './proxy-pipeline';
import { ProxyService } from './proxy.service';

@Module({})
export class ProxyModule {
  /** `guards`: the policies every proxied request passes, in this order; each is provided by its own module. */
  static forRoot(guards: readonly Type<CanActivate>[]): DynamicModule {
    return {
      module: ProxyModule,
      imports: [UpstreamModule],
      providers: [ProxyService, ProxyPipeline, GatewayExceptionFilter, WebSocketForwarder, { provide: PROXY_GUARDS, useValue: guards }],
      exports: [GatewayExceptionFilter],
    };
  }
}
