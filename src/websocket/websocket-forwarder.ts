import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { PluginResponseHead } from '../plugins/plugin-call';
import { runResponsePlugins } from '../plugins/response-plugins';
import { clientResponseHeaders } from '../proxy/request-headers';
import { startResponse, type ResponsePlugins } from '../proxy/response-start';
import type { CompiledRoute } from '../routing/compiled-route';
import type { RequestCancellation } from '../timeout/request-cancellation';
import { addGatewayHeaders } from '../trace/gateway-response-headers';
import type { RequestContext } from '../trace/request-context';
import type { UpstreamClient, UpstreamRequest } from '../upstream/upstream-client';
import { isConnectFailure, mapUpstreamError, noHealthyTarget } from '../upstream/upstream-error-mapper';
import type { UpstreamTarget } from '../upstream/upstream-target';
import { tunnel } from './tunnel';
import type { PendingUpgrade } from './upgrade-listener';

/** One upgrade request, as ProxyService hands it over once route, plugins and permits have let it through. */
export interface UpgradeCall {
  readonly route: CompiledRoute;
  readonly context: RequestContext;
  readonly cancellation: RequestCancellation;
  readonly request: Omit<UpstreamRequest, 'body'>;
  readonly res: ServerResponse;
  readonly upgrade: PendingUpgrade;
  readonly protocol: string;
}

/**
 * WebSockets (docs/routing.md "WebSockets"): the handshake goes to one healthy target of the route's
 * upstream, bounded by the route's `timeoutMs`. A 101 joins the two sockets (tunnel.ts) and
 * the request lasts, with its permits, until either side closes; any other answer is passed
 * back to the client as the upstream gave it. Unreachable or too slow: the usual JSON 502/504.
 */
@Injectable()
export class WebSocketForwarder {
  constructor(private readonly metrics: GatewayMetrics) {}

  async forward({ route, context, cancellation, request, res, upgrade, protocol }: UpgradeCall): Promise<void> {
    const client = route.binding.client;
    const target = client.pickTarget();
    if (target === null) throw noHealthyTarget(client.settings.name);
    context.target = target.url;
    context.upstreamStartedAt = performance.now();
    const plugins: ResponsePlugins | null = context.plugins === null ? null : { call: context.plugins, chain: route.binding.plugins };
    try {
      await this.handshake(target, client, { route, context, cancellation, request, res, upgrade, protocol }, plugins);
    } catch (error) {
      if (cancellation.signal.aborted) throw cancellation.signal.reason;
      const failure = mapUpstreamError(error, client.settings.name);
      if (failure.upstreamKind !== null) this.metrics.upstreamErrors.inc({ upstream: client.settings.name, kind: failure.upstreamKind });
      if (isConnectFailure(error)) target.health.proxiedFailure(`connect failed (${failure.upstreamKind ?? 'error'})`);
      throw failure;
    }
  }

  private handshake(target: UpstreamTarget, client: UpstreamClient, call: UpgradeCall, plugins: ResponsePlugins | null): Promise<void> {
    const { route, context, cancellation, request, res, upgrade, protocol } = call;
    return client.upgrade(
      target,
      { ...request, body: null, protocol },
      (head) => {
        context.upstreamHeadersAt = performance.now();
        return startResponse(res, head, cancellation, context, plugins);
      },
      (statusCode, headers, upstreamSocket) => this.switchProtocols(statusCode, headers, upstreamSocket, { route, context, cancellation, res, upgrade, plugins }),
    );
  }

  private switchProtocols(
    statusCode: number,
    headers: IncomingHttpHeaders,
    upstreamSocket: Duplex,
    call: Pick<UpgradeCall, 'route' | 'context' | 'cancellation' | 'res' | 'upgrade'> & { plugins: ResponsePlugins | null },
  ): void {
    const { route, context, cancellation, res, upgrade, plugins } = call;
    const client = upgrade.socket;
    if (cancellation.signal.aborted || client.destroyed) {
      // The deadline passed or the client left at the last moment: nobody is left to talk to.
      upstreamSocket.destroy();
      client.destroy();
      return;
    }
    cancellation.responseStarted();
    context.upstreamHeadersAt = performance.now();
    context.upgraded = true;
    res.statusCode = statusCode;
    const out = addGatewayHeaders(clientResponseHeaders(headers), context);
    if (plugins !== null) runResponsePlugins(plugins.chain, new PluginResponseHead(statusCode, plugins.call, out));
    client.write(switchingHead(statusCode, headers, out));
    const open = this.metrics.websocketsOpen.labels({ route: route.id });
    open.inc();
    context.end?.onEnd(() => open.dec());
    tunnel(client, upstreamSocket, upgrade.head);
  }
}

/** The 101 as the client gets it: the upstream's headers (Upgrade and Connection included, which a normal response drops) with the gateway's and the plugins' edits. */
function switchingHead(statusCode: number, upstream: IncomingHttpHeaders, edited: Record<string, string | string[]>): string {
  const lines = [`HTTP/1.1 ${statusCode} Switching Protocols`, `Connection: Upgrade`, `Upgrade: ${String(upstream.upgrade ?? 'websocket')}`];
  for (const [name, value] of Object.entries(edited)) {
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
