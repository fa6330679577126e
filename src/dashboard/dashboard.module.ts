import { DynamicModule, Module } from '@nestjs/common';
import { loadDashboardAssets } from './dashboard-assets';
import { createDashboardController } from './dashboard.controller';

/**
 * The operators' page (docs/operations.md "Dashboard"), only when GATEWAY_ADMIN_TOKEN is set: it shows what
 * the admin API reports, so without the API there is no page either (404).
 */
@Module({})
export class DashboardModule {
  static forRoot(managementPrefix: string, adminToken: string | null): DynamicModule {
    if (adminToken === null) return { module: DashboardModule };
    return { module: DashboardModule, controllers: [createDashboardController(managementPrefix, loadDashboardAssets(managementPrefix))] };
  }
}
