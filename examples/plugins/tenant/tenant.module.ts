import { Module } from '@nestjs/common';
import { TenantPlugin } from './tenant.plugin';

/** Load it with GATEWAY_PLUGINS=examples/plugins/dist/tenant/tenant.module.js, or GatewayModule.forRoot({ plugins: [TenantPluginModule] }). */
@Module({ providers: [TenantPlugin], exports: [TenantPlugin] })
export class TenantPluginModule {}
