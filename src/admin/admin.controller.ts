import { All, Controller, Header, Query, Req, Res, UseGuards, type Type } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClsService } from 'nestjs-cls';
import type { IncomingHttpHeaders } from 'node:http';
import { PermitRegistry } from '../concurrency/permit-registry.service';
import { errorBody } from '../errors/error-response';
import { GatewayError } from '../errors/gateway-error';
import { TrafficStats } from '../metrics/traffic-stats';
import { RouteTableService } from '../routing/route-table.service';
import type { RequestContext } from '../trace/request-context';
import { UpstreamRegistry } from '../upstream/upstream-registry.service';
import { AdminTokenGuard } from './admin-token.guard';
import { ConfigReloader } from './config-reloader.service';
import { dryRun, type DryRun } from './dry-run';
import { liveStats, type LiveStats } from './live-stats';

/**
 * `<managementPrefix>/admin/*` (docs/operations.md "Admin API"), behind AdminTokenGuard. Made per prefix,
 * like the health controller; only registered when GATEWAY_ADMIN_TOKEN is set.
 */
export function createAdminController(managementPrefix: string): Type<unknown> {
  @Controller(`${managementPrefix}/admin`)
  @UseGuards(AdminTokenGuard)
  class AdminController {
    constructor(
      private readonly routes: RouteTableService,
      private readonly permits: PermitRegistry,
      private readonly upstreams: UpstreamRegistry,
      private readonly traffic: TrafficStats,
      private readonly reloader: ConfigReloader,
      private readonly cls: ClsService<RequestContext>,
    ) {}

    @All('routes')
    @Header('cache-control', 'no-store')
    liveRoutes(@Req() request: FastifyRequest): unknown {
      only(request, 'GET');
      const { config, generation, publishedAt } = this.routes;
      return { generation, publishedAt: publishedAt.toISOString(), managementPrefix: config.server.managementPrefix, routes: config.routes, upstreams: config.upstreams };
    }

    @All('stats')
    @Header('cache-control', 'no-store')
    stats(@Req() request: FastifyRequest): LiveStats {
      only(request, 'GET');
      return liveStats({ config: this.routes.config, permits: this.permits, upstreams: this.upstreams, traffic: this.traffic }, Date.now());
    }

    @All('reload')
    @Header('cache-control', 'no-store')
    reload(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): unknown {
      only(request, 'POST');
      const outcome = this.reloader.reload('admin');
      if (outcome.result === 'success') return outcome;
      void reply.status(400);
      const error = new GatewayError('invalid_config', `the config file has ${outcome.errors.length} error(s); the previous config keeps serving`);
      return { ...errorBody(error, null, this.cls.get()?.traceId ?? null), errors: outcome.errors };
    }

    /** `?method=GET&path=/x&host=h&header=name:value` (header repeatable). */
    @All('explain')
    @Header('cache-control', 'no-store')
    explain(@Req() request: FastifyRequest, @Query() query: Record<string, string | string[] | undefined>): DryRun {
      only(request, 'GET');
      const path = single(query.path);
      if (path === undefined || !path.startsWith('/')) throw new GatewayError('bad_request', 'explain needs ?path= starting with /');
      const method = (single(query.method) ?? 'GET').toUpperCase();
      const host = single(query.host);
      return dryRun(this.routes.current, this.routes.config.server.pathEscapedSlashes, { method, path, host, headers: headersOf(query.header, host) });
    }
  }
  return AdminController;
}

function only(request: FastifyRequest, method: 'GET' | 'POST'): void {
  const allowed = method === 'GET' ? ['GET', 'HEAD'] : ['POST'];
  if (!allowed.includes(request.method)) {
    throw new GatewayError('method_not_allowed', `${request.method} is not allowed here`, { allow: allowed.join(', ') });
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `header=x-tenant:acme` pairs as the request headers route predicates compare. */
function headersOf(values: string | string[] | undefined, host: string | undefined): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = host === undefined ? {} : { host };
  for (const pair of values === undefined ? [] : Array.isArray(values) ? values : [values]) {
    const colon = pair.indexOf(':');
    if (colon <= 0) throw new GatewayError('bad_request', `header=${pair}: expected name:value`);
    headers[pair.slice(0, colon).trim().toLowerCase()] = pair.slice(colon + 1).trim();
  }
  return headers;
}
