import { Inject, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { GatewayConfig } from '../config/gateway-config.types';
import { GatewayError } from '../errors/gateway-error';
import type { GatewayLogger } from '../logging/gateway-logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { GATEWAY_LOGGER } from '../telemetry/telemetry.tokens';
import type { RequestCancellation } from '../timeout/request-cancellation';
import type { RequestContext } from '../trace/request-context';
import { upstreamTraceHeaders } from '../trace/request-context.factory';
import type { AttemptProgress, UpstreamRequest, UpstreamResponseHead } from '../upstream/upstream-client';
import { isConnectFailure, mapUpstreamError, noHealthyTarget } from '../upstream/upstream-error-mapper';
import { bodyTooLarge, RequestBodyStream } from './request-body';
import { clientAddress } from './client-address';
import type { ProxiedRequest } from './proxied-request';
import { upstreamRequestHeaders } from './request-headers';
import { startResponse } from './response-start';
import { upgradeOf } from '../websocket/upgrade-listener';
import { WebSocketForwarder } from '../websocket/websocket-forwarder';
import { RetryPolicy } from './retry-policy';

/**
 * Forwards one matched request to its upstream and streams the response back (docs/routing.md "Proxying and headers"),
 * retrying on another target where the route's retry policy allows. Both bodies stream with
 * backpressure; nothing is buffered whole.
 */
@Injectable()
export class ProxyService {
  private readonly bodyLimit: number;
  private readonly trustProxy: boolean;

  constructor(
    private readonly websockets: WebSocketForwarder,
    private readonly cls: ClsService<RequestContext>,
    private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_LOGGER) private readonly logger: GatewayLogger,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.bodyLimit = config.server.bodyLimitBytes;
    this.trustProxy = config.server.trustProxy;
  }

  async forward(request: ProxiedRequest, res: ServerResponse): Promise<void> {
    const route = request.gatewayRoute!;
    const cancellation = request.gatewayCancellation!;
    const context = this.cls.get();
    const client = route.binding.client;
    const upstream = client.settings.name;
    const req = request.raw;
    let body = this.requestBody(req, context);
    const retry = new RetryPolicy(req.method!, route.settings.retry?.attempts ?? 0, body !== null);
    const headers = upstreamRequestHeaders(req.headers, {
      clientIp: clientAddress(req),
      protocol: (req.socket as TLSSocket).encrypted ? 'https' : 'http',
      trustProxy: this.trustProxy,
      preserveHost: client.settings.preserveHost,
    });
    if (context.tracestate === undefined) delete headers.tracestate;
    Object.assign(headers, upstreamTraceHeaders(context));
    const call: Omit<UpstreamRequest, 'body'> = { method: req.method!, path: request.gatewayUpstreamPath, headers, signal: cancellation.signal };
    const upgrade = upgradeOf(req);
    if (upgrade !== undefined) {
      const protocol = String(req.headers.upgrade ?? 'websocket');
      return this.websockets.forward({ route, context, cancellation, request: call, res, upgrade, protocol });
    }
    const debug = this.logger.isLevelEnabled('debug');
    const onHead = (head: UpstreamResponseHead): void => {
      context.upstreamHeadersAt = performance.now();
      // undici calls back from its socket's async context, which is not this request's: enter it for the line's ids.
      if (debug) {
        this.cls.runWith(context, () => this.logger.debug({ msg: 'upstream responded', upstream, target: context.target, status: head.statusCode }));
      }
    };
    context.upstreamStartedAt = performance.now();
    let target = client.pickTarget();
    if (target === null) throw noHealthyTarget(upstream);
    for (let attempt = 0; ; attempt++) {
      let discarded = false;
      const progress: AttemptProgress = { requestWritten: false };
      const current = target;
      context.target = current.url;
      if (debug) this.logger.debug({ msg: 'forwarding', upstream, target: target.url, attempt });
      try {
        await client.forward(
          target,
          { ...call, body },
          (head) => {
            onHead(head);
            // Passive health: a gateway-type failure (502/503/504) counts against the target; an
            // application's own 500 says nothing about the target as a whole.
            if (head.statusCode >= 502 && head.statusCode <= 504) current.health.proxiedFailure(`answered ${head.statusCode}`);
            else current.health.proxiedSuccess();
            if (retry.retriesStatus(attempt, head.statusCode)) {
              discarded = true;
              return discardSink();
            }
            return startResponse(res, head, cancellation, context, context.plugins === null ? null : { call: context.plugins, chain: route.binding.plugins });
          },
          progress,
        );
        if (!discarded) return;
      } catch (error) {
        // Classified while the client's response is still intact: a failure after the response
        // started is the upstream's (truncated), not a client abort. The exception filter then cuts it.
        const failure = this.failureOf(error, cancellation, upstream);
        if (failure.upstreamKind !== null) this.metrics.upstreamErrors.inc({ upstream, kind: failure.upstreamKind });
        if (!cancellation.signal.aborted && isConnectFailure(error)) current.health.proxiedFailure(`connect failed (${failure.upstreamKind ?? 'error'})`);
        if (cancellation.signal.aborted || res.headersSent) throw failure;
        if (!retry.retriesError(attempt, error, progress, body === null || body.untouched)) throw failure;
        // A retry goes to another healthy target where there is one; with none left, the failure stands.
        target = client.pickTarget(current);
        if (target === null) throw failure;
        if (debug) this.logger.debug({ msg: 'retrying', upstream, target: target.url, code: failure.code, kind: failure.upstreamKind });
        if (body !== null) body = req.pipe(new RequestBodyStream(this.bodyLimit, context));
        continue;
      }
      target = client.pickTarget(current);
      if (target === null) throw noHealthyTarget(upstream);
    }
  }

  private failureOf(error: unknown, cancellation: RequestCancellation, upstream: string): GatewayError {
    if (cancellation.signal.aborted) return cancellation.signal.reason as GatewayError;
    return mapUpstreamError(error, upstream);
  }

  /** The body to stream upstream, or null when the request has none. */
  private requestBody(req: IncomingMessage, context: RequestContext): RequestBodyStream | null {
    const length = req.headers['content-length'];
    if (length !== undefined) {
      if (Number(length) > this.bodyLimit) throw bodyTooLarge(this.bodyLimit);
      if (length === '0') return null;
    } else if (req.headers['transfer-encoding'] === undefined) {
      return null;
    }
    return req.pipe(new RequestBodyStream(this.bodyLimit, context));
  }
}

function discardSink(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}
