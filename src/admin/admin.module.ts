import { DynamicModule, Module } from '@nestjs/common';
import { ConcurrencyModule } from '../concurrency/concurrency.module';
import { RoutingModule } from '../routing/routing.module';
import { UpstreamModule } from '../upstream/upstream.module';
import { createAdminController } from './admin.controller';
import { AdminTokenGuard } from './admin-token.guard';
import { ReloadModule } from './reload.module';

/**
 * The admin API, only when GATEWAY_ADMIN_TOKEN is set: without it no admin route exists, so the
 * whole surface answers 404 like any unknown management path. Reload itself (SIGHUP, file
 * watch) works either way.
 */
@Module({})
export class AdminModule {
  static forRoot(managementPrefix: string, adminToken: string | null): DynamicModule {
    if (adminToken === null) return { module: AdminModule, imports: [ReloadModule] };
    return {
      module: AdminModule,
      imports: [ReloadModule, RoutingModule, UpstreamModule, ConcurrencyModule],
      controllers: [createAdminController(managementPrefix)],
      providers: [AdminTokenGuard],
    };
  }
}
