import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { ProxiedReply, ProxiedRequest } from '../proxy/proxied-request';
import { ClsService } from 'nestjs-cls';
import type { RequestContext } from '../trace/request-context';
import { DeadlineQueue } from './deadline-queue';
import { RequestCancellation } from './request-cancellation';

/**
 * Gives every proxied request its RequestCancellation: one cancellation signal, aborted on the route's
 * `timeoutMs` (504) or on client disconnect (499); the upstream call takes that signal, so
 * either event cancels the upstream request at once.
 *
 * A NestJS app would write this as a timeout interceptor; it is the last guard because it only
 * has to act before the handler, and the interceptor form (RxJS plus an AsyncResource.bind per
 * request) costs 67% more CPU per proxied request on Node 24, 88% on Node 20
 * (docs/design.md "Design choices").
 */
@Injectable()
export class DeadlineGuard implements CanActivate {
  private readonly deadlines = new DeadlineQueue();

  constructor(private readonly cls: ClsService<RequestContext>) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<ProxiedRequest>();
    const route = request.gatewayRoute;
    if (route !== null) {
      const res = http.getResponse<ProxiedReply>().raw;
      const requestContext = this.cls.get();
      // gateway-server.ts gives every proxied request a RequestEnd; without it nothing would cancel the call.
      if (!requestContext?.end) throw new Error('a proxied request without a RequestEnd');
      request.gatewayCancellation = new RequestCancellation(res, requestContext.end, this.deadlines, route.settings.timeoutMs, requestContext);
    }
    return true;
  }
}
