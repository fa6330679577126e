import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { ProxiedRequest } from '../proxy/proxied-request';
import type { IncomingHttpHeaders } from 'node:http';
import { ClsService } from 'nestjs-cls';
import type { RequestContext } from '../trace/request-context';
import { GatewayError } from '../errors/gateway-error';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { GatewayConfig, PathEscapedSlashes } from '../config/gateway-config.types';
import { targetDisguise } from './path-disguise';
import { normalisePath } from './path-normaliser';
import type { RouteMatch, RouteTable } from './route-table';
import { RouteTableService } from './route-table.service';

/**
 * First step of the proxy pipeline: matches the request against the live route table and
 * stores the route on the request for the guards after it (docs/configuration.md "Config file reference"). 404 and 405 start
 * here, and 400 for paths that disguise a separator (see path-disguise.ts).
 */
@Injectable()
export class RouteMatchGuard implements CanActivate {
  private readonly escapedSlashes: PathEscapedSlashes;

  constructor(
    private readonly routes: RouteTableService,
    private readonly cls: ClsService<RequestContext>,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.escapedSlashes = config.server.pathEscapedSlashes;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ProxiedRequest>();
    const url = request.raw.url ?? '/';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
    const path = normalisePath(rawPath);
    const disguise = targetDisguise(url, path, this.escapedSlashes);
    if (disguise !== null) throw new GatewayError('bad_request', `refused: ${disguise}`);
    const table = this.routes.current;
    const headers = request.raw.headers;
    let match = table.match({ method: request.raw.method ?? 'GET', path, host: headers.host, headers });
    if (match.kind === 'method_not_allowed' && request.raw.method === 'OPTIONS') match = preflightMatch(table, path, headers) ?? match;
    if (match.kind === 'no_route') throw new GatewayError('no_route', `no route for ${request.raw.method} ${path}`);
    if (match.kind === 'method_not_allowed') {
      throw new GatewayError('method_not_allowed', `${request.raw.method} is not allowed on ${path}`, {
        allow: match.allow.join(', '),
      });
    }
    request.gatewayRoute = match.route;
    const requestContext = this.cls.get();
    // gateway-server.ts gives every request one; without it the route's lease could never end.
    if (!requestContext?.end) throw new Error('a proxied request without a RequestEnd');
    const binding = match.route.binding;
    requestContext.route = match.route.id;
    requestContext.upstream = match.route.settings.upstream;
    requestContext.binding = binding;
    binding.begin();
    requestContext.end.onEnd(binding.end);
    request.gatewayUpstreamPath = queryAt === -1 ? match.upstreamPath : match.upstreamPath + url.slice(queryAt);
    return true;
  }
}

/**
 * A CORS preflight on a route that does not list OPTIONS: the route of the method it asks
 * about, if a plugin of that route answers preflights (docs/plugins.md "Plugins", `cors`).
 */
function preflightMatch(table: RouteTable, path: string, headers: IncomingHttpHeaders): RouteMatch | null {
  const asked = headers['access-control-request-method'];
  if (typeof asked !== 'string' || headers.origin === undefined) return null;
  const match = table.match({ method: asked, path, host: headers.host, headers });
  return match.kind === 'route' && match.route.binding.plugins.some((bound) => bound.plugin.answersPreflight === true) ? match : null;
}
