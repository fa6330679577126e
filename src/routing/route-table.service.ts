import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { GatewayConfig } from '../config/gateway-config.types';
import { RouteTable } from './route-table';

/** Holds the live route table; a reload swaps the whole table at once. */
@Injectable()
export class RouteTableService {
  private table: RouteTable;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.table = new RouteTable(config.routes, config.server.managementPrefix);
  }

  get current(): RouteTable {
    return this.table;
  }
}
