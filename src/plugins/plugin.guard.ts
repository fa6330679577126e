import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { ProxiedReply, ProxiedRequest } from '../proxy/proxied-request';
import { ClsService } from 'nestjs-cls';
import { performance } from 'node:perf_hooks';
import { GatewayError } from '../errors/gateway-error';
import type { GatewayLogger } from '../logging/gateway-logger';
import { GATEWAY_LOGGER } from '../telemetry/telemetry.tokens';
import type { RequestContext } from '../trace/request-context';
import type { BoundPlugin } from './plugin-chain';
import { AnsweredByPlugin, PluginCall } from './plugin-call';

/**
 * The route's plugins (docs/plugins.md "Plugins"), right after route match and before rate limits and
 * permits: each `beforeUpstream` in the route's order, synchronously until one returns a
 * promise. A GatewayError a plugin throws is its refusal; anything else is logged with the
 * request's ids and answered 500 plugin_error. A plugin that answers the request itself (a
 * CORS preflight) ends the pipeline there. `onComplete` hooks run when the request is over.
 */
@Injectable()
export class PluginGuard implements CanActivate {
  constructor(
    private readonly cls: ClsService<RequestContext>,
    @Inject(GATEWAY_LOGGER) private readonly logger: GatewayLogger,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<ProxiedRequest>();
    const route = request.gatewayRoute;
    if (route === null) return true;
    const chain = route.binding.plugins;
    if (chain.length === 0) return true;
    const requestContext = this.cls.get();
    const end = requestContext?.end;
    if (!end) throw new Error('a proxied request without a RequestEnd');
    const call = new PluginCall(request.raw, context.switchToHttp().getResponse<ProxiedReply>().raw, requestContext, route.id);
    requestContext.plugins = call;
    if (chain.some((bound) => bound.plugin.onComplete)) end.onEnd(() => this.complete(chain, call, requestContext));
    return this.run(chain, 0, call);
  }

  private run(chain: readonly BoundPlugin[], from: number, call: PluginCall): boolean | Promise<boolean> {
    for (let i = from; i < chain.length; i++) {
      const { plugin, state } = chain[i];
      if (!plugin.beforeUpstream) continue;
      let result: void | Promise<void>;
      try {
        result = plugin.beforeUpstream(call, state);
      } catch (error) {
        throw this.failure(plugin.name, 'beforeUpstream', error);
      }
      if (result instanceof Promise) {
        return result.then(
          () => (call.answered ? Promise.reject(new AnsweredByPlugin()) : this.run(chain, i + 1, call)),
          (error: unknown) => Promise.reject(this.failure(plugin.name, 'beforeUpstream', error)),
        );
      }
      if (call.answered) throw new AnsweredByPlugin();
    }
    return true;
  }

  private complete(chain: readonly BoundPlugin[], call: PluginCall, context: RequestContext): void {
    const res = call.response;
    const completion = {
      method: call.method,
      url: call.url,
      requestHeaders: call.headers,
      route: call.route,
      status: res.writableFinished ? res.statusCode : 499,
      durationMs: performance.now() - context.startedAt,
      consumerId: context.consumerId,
      traceId: context.traceId,
      requestId: context.requestId,
    };
    // In the request's context, so the hooks' own log lines carry its ids.
    this.cls.runWith(context, () => {
      for (const { plugin, state } of chain) {
        try {
          plugin.onComplete?.(completion, state);
        } catch (error) {
          // The response is gone: an audit hook that fails can only be logged.
          this.failure(plugin.name, 'onComplete', error);
        }
      }
    });
  }

  private failure(plugin: string, hook: string, error: unknown): GatewayError {
    if (error instanceof GatewayError) return error;
    this.logger.error({ context: 'Plugin', msg: 'plugin failed', plugin, hook, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    return new GatewayError('plugin_error', `plugin "${plugin}" failed`);
  }
}
