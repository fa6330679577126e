import { All, Controller, Header, Req, Res, ServiceUnavailableException, type Type } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors/gateway-error';
import { TrafficGate } from '../lifecycle/traffic-gate';
import { UpstreamHealthIndicator } from './upstream-health.indicator';

/**
 * `<managementPrefix>/health/live` and `/ready` (docs/operations.md "Management endpoints") through @nestjs/terminus, in its
 * usual response shape. `live` consults nothing beyond the process, so a failing upstream never
 * gets the gateway restarted; `ready` is 503 while stopping or while an upstream with a
 * `healthCheck` has no healthy target. Other methods than GET and HEAD get 405. The class is made
 * per prefix because a controller's path is fixed by its decorator.
 */
export function createHealthController(managementPrefix: string): Type<unknown> {
  @Controller(`${managementPrefix}/health`)
  class HealthController {
    constructor(
      private readonly health: HealthCheckService,
      private readonly indicator: HealthIndicatorService,
      private readonly upstreams: UpstreamHealthIndicator,
      private readonly gate: TrafficGate,
    ) {}

    @All('live')
    @Header('cache-control', 'no-store')
    live(@Req() request: FastifyRequest): Promise<HealthCheckResult> {
      onlyGet(request);
      return this.health.check([]);
    }

    @All('ready')
    @Header('cache-control', 'no-store')
    async ready(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
      onlyGet(request);
      try {
        return await this.health.check([() => this.gateway(), ...this.upstreams.checkedUpstreams.map((name) => () => this.upstreams.check(name))]);
      } catch (error) {
        // Terminus reports "not ready" as a 503 exception carrying its usual body.
        if (!(error instanceof ServiceUnavailableException)) throw error;
        void reply.status(503);
        return error.getResponse();
      }
    }

    private gateway(): HealthIndicatorResult {
      const session = this.indicator.check('gateway');
      return this.gate.draining ? session.down({ config: 'loaded', draining: true }) : session.up({ config: 'loaded', draining: false });
    }
  }
  return HealthController;
}

function onlyGet(request: FastifyRequest): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    throw new GatewayError('method_not_allowed', `${request.method} is not allowed here`, { allow: 'GET, HEAD' });
  }
}
