import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClsService } from 'nestjs-cls';
import type { RequestContext } from '../trace/request-context';
import { DeadlineQueue } from './deadline-queue';
import { RequestCancellation } from './request-cancellation';

/**
 * Gives every proxied request its RequestCancellation: one AbortSignal, aborted on the route's
 * `timeoutMs` (504) or on client disconnect (499); the upstream call takes that signal, so
 * either event cancels the upstream request at once.
 *
 * This is the "timeout interceptor" of the design, written as the last guard: it only has to
 * act before the handler, and on Node 20 Nest's interceptor chain (RxJS plus an
 * AsyncResource.bind per request) cost about a tenth of the gateway's CPU per request.
 */
@Injectable()
export class DeadlineGuard implements CanActivate {
  private readonly deadlines = new DeadlineQueue();

  constructor(private readonly cls: ClsService<RequestContext>) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const route = request.gatewayRoute;
    if (route !== null) {
      const res = http.getResponse<FastifyReply>().raw;
      const requestContext = this.cls.get();
      // gateway-server.ts gives every proxied request a RequestEnd; without it nothing would cancel the call.
      if (!requestContext?.end) throw new Error('a proxied request without a RequestEnd');
      request.gatewayCancellation = new RequestCancellation(res, requestContext.end, this.deadlines, route.settings.timeoutMs, requestContext);
    }
    return true;
  }
}
