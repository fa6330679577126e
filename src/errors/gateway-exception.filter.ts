import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { AnsweredByPlugin, PluginResponseHead, type PluginCall } from '../plugins/plugin-call';
import type { BoundPlugin } from '../plugins/plugin-chain';
import { runResponsePlugins } from '../plugins/response-plugins';
import type { ProxiedRequest } from '../proxy/proxied-request';
import type { RequestContext } from '../trace/request-context';
import type { GatewayErrorCode } from './error-catalogue';
import { writeErrorResponse } from './error-response';
import { GatewayError } from './gateway-error';

/** Nest's own HTTP exceptions (a team's guard returning false is a ForbiddenException) as the gateway's errors. */
const CODE_BY_STATUS: Readonly<Record<number, GatewayErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'no_route',
  405: 'method_not_allowed',
  413: 'body_too_large',
};

/** The one place where errors become responses (docs/errors.md "Errors and status codes"). */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('GatewayExceptionFilter');

  constructor(private readonly cls: ClsService<RequestContext>) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    // A proxied request (ProxiedRequest) or a management endpoint's (Fastify's, without a route): both carry `raw`.
    const request = http.getRequest<Partial<ProxiedRequest>>();
    const reply = http.getResponse<{ raw: ServerResponse }>();
    // A plugin answered the request itself (a CORS preflight): the response is already written.
    if (exception instanceof AnsweredByPlugin) return;
    const error = this.toGatewayError(exception);
    const context = this.cls.get();
    if (context && context.code === null) context.code = error.code;
    if (error.code === 'client_closed') return;
    const route = request.gatewayRoute ?? null;
    const call = context?.plugins ?? null;
    const headers = route !== null && call !== null ? this.pluginHeaders(route.binding.plugins, call, error) : {};
    writeErrorResponse(reply.raw, error, context, route?.id ?? null, headers);
  }

  /**
   * The route's `onResponse` hooks see the gateway's own answers too (a 401 from api-key, a 429,
   * a 504), so a browser gets its CORS headers with the error. A hook that fails here is only
   * logged: the error being answered stays what it was.
   */
  private pluginHeaders(chain: readonly BoundPlugin[], call: PluginCall, error: GatewayError): Record<string, string | string[]> {
    const headers: OutgoingHttpHeaders = { ...error.headers };
    try {
      runResponsePlugins(chain, new PluginResponseHead(error.status, call, headers));
    } catch (failure) {
      this.logger.error(`a plugin failed on the ${error.status} ${error.code} answer: ${describe(failure instanceof GatewayError && failure.cause !== undefined ? failure.cause : failure)}`);
    }
    return headers as Record<string, string | string[]>;
  }

  private toGatewayError(exception: unknown): GatewayError {
    if (exception instanceof GatewayError) {
      if (exception.code === 'plugin_error' && exception.cause !== undefined) this.logger.error(`${exception.message}: ${describe(exception.cause)}`);
      return exception;
    }
    const status = statusOf(exception);
    const code = status !== null ? CODE_BY_STATUS[status] : undefined;
    if (code) return new GatewayError(code, messageOf(exception));
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return new GatewayError('internal_error', 'the gateway failed to handle this request');
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
}

function statusOf(exception: unknown): number | null {
  if (exception instanceof HttpException) return exception.getStatus();
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' ? statusCode : null;
}

function messageOf(exception: unknown): string {
  return exception instanceof Error ? exception.message : 'request rejected';
}
