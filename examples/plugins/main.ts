import 'reflect-metadata';
import { GatewayModule, runGateway } from 'nest-gateway';
import { TenantPluginModule } from './tenant/tenant.module';

/**
 * A team's own entry point: the stock gateway plus its plugin. In a real project `nest-gateway`
 * is a dependency; here it resolves to this repository's build (see tsconfig.json `paths`).
 */
void runGateway(GatewayModule.forRoot({ plugins: [TenantPluginModule] }));
