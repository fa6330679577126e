import { Module } from '@nestjs/common';
import { ConcurrencyModule } from '../concurrency/concurrency.module';
import { UpstreamModule } from '../upstream/upstream.module';
import { RouteMatchGuard } from './route-match.guard';
import { RouteTableService } from './route-table.service';

@Module({
  imports: [UpstreamModule, ConcurrencyModule],
  providers: [RouteTableService, RouteMatchGuard],
  exports: [RouteTableService, RouteMatchGuard],
})
export class RoutingModule {}
