import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';

/**
 * Whether this gateway should receive traffic: the config is loaded (the application exists
 * only then) and it is not stopping. Readiness turns 503 as soon as shutdown begins, so a load
 * balancer stops sending before connections close.
 */
@Injectable()
export class GatewayState implements BeforeApplicationShutdown {
  private stopping = false;

  get draining(): boolean {
    return this.stopping;
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }
}
