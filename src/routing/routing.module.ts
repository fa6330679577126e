import { Module } from '@nestjs/common';
import { RouteMatchGuard } from './route-match.guard';
import { RouteTableService } from './route-table.service';

@Module({
  providers: [RouteTableService, RouteMatchGuard],
  exports: [RouteTableService, RouteMatchGuard],
})
export class RoutingModule {}
