import { Module } from '@nestjs/common';
import { ConcurrencyModule } from '../concurrency/concurrency.module';
import { RoutingModule } from '../routing/routing.module';
import { UpstreamModule } from '../upstream/upstream.module';
import { ConfigFileReloads } from './config-file-reloads';
import { ConfigReloader } from './config-reloader.service';

/** Config reload, whatever asks for it: the admin API, SIGHUP (run-gateway.ts) or the file changing. */
@Module({
  imports: [RoutingModule, UpstreamModule, ConcurrencyModule],
  providers: [ConfigReloader, ConfigFileReloads],
  exports: [ConfigReloader],
})
export class ReloadModule {}
