import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { DeadlineQueue } from './deadline-queue';
import { RequestCancellation } from './request-cancellation';

/**
 * Gives every proxied request its RequestCancellation: one AbortSignal, aborted on the route's
 * `timeoutMs` (504) or on client disconnect (499). The upstream call takes that signal, so
 * either event cancels the upstream request at once.
 */
@Injectable()
export class TimeoutInterceptor implements NestInterceptor {
  private readonly deadlines = new DeadlineQueue();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const route = request.gatewayRoute;
    if (route !== null) {
      const res = http.getResponse<FastifyReply>().raw;
      request.gatewayCancellation = new RequestCancellation(res, this.deadlines, route.settings.timeoutMs);
    }
    return next.handle();
  }
}
