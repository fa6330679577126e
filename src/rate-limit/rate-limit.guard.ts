import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { ProxiedRequest } from '../proxy/proxied-request';
import { RouteThrottler } from './route-throttler';

/**
 * The route's `rateLimit` (docs/configuration.md "Config file reference") in the global pipeline, right after route match and
 * before the concurrency guard, so a request over its limit never takes a permit. Routes
 * without `rateLimit` pass synchronously (a guard that answers with a promise costs Nest an
 * extra await per request); the counting is RouteThrottler's.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(private readonly throttler: RouteThrottler) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<ProxiedRequest>();
    const rateLimit = request.gatewayRoute?.settings.rateLimit ?? null;
    return rateLimit === null ? true : this.throttler.check(context, request, rateLimit);
  }
}
