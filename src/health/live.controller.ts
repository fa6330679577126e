import { Controller, Get, Header, type Type } from '@nestjs/common';

/**
 * Liveness under the configurable management prefix. The class is made per prefix because
 * a controller's path is fixed by its decorator.
 */
export function createLiveController(managementPrefix: string): Type<unknown> {
  @Controller(`${managementPrefix}/health`)
  class LiveController {
    @Get('live')
    @Header('cache-control', 'no-store')
    live(): { status: 'ok' } {
      return { status: 'ok' };
    }
  }
  return LiveController;
}
