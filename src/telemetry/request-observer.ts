import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import { performance } from 'node:perf_hooks';
import type { GatewayErrorCode } from '../errors/error-catalogue';
import type { RequestEnd } from '../lifecycle/request-end';
import type { GatewayLogger } from '../logging/gateway-logger';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { RequestContext } from '../trace/request-context';
import { formatAccessLogLine } from './access-log-line';

const REJECTION_CODES = new Set(['rate_limited', 'concurrency_limit', 'queue_timeout']);

/**
 * Records how each request ended: one access-log line and the request metrics, written once
 * when the request ends (see RequestEnd: success, error and client abort alike). A response
 * that did not finish is a client abort (499 client_closed) unless the gateway cut it for a
 * reason of its own, which the line then names (`truncated: true`).
 */
export class RequestObserver {
  constructor(
    private readonly logger: GatewayLogger,
    /** The logger's own destination: access lines go out in the same stream, in order. */
    private readonly accessLog: DestinationStream,
    private readonly metrics: GatewayMetrics,
  ) {}

  track(req: IncomingMessage, res: ServerResponse, context: RequestContext, end: RequestEnd): void {
    const socket = req.socket;
    const writtenBefore = socket.bytesWritten;
    const readBefore = socket.bytesRead;
    end.onEnd(() => {
      // A WebSocket's bytes in are whatever the client sent through the tunnel.
      if (context.upgraded) context.bytesIn = socket.bytesRead - readBefore;
      this.finish(req, res, context, socket.bytesWritten - writtenBefore);
    });
  }

  /** A request answered straight on its socket, with no ServerResponse (CONNECT). */
  recordWithoutResponse(req: IncomingMessage, context: RequestContext, status: number, bytesOut: number): void {
    this.record(req, context, status, context.code, false, bytesOut);
  }

  private finish(req: IncomingMessage, res: ServerResponse, context: RequestContext, bytesOut: number): void {
    let status = res.statusCode;
    let code = context.code;
    // A switched connection never "finishes" a response: it is over when its sockets close.
    if (context.upgraded) {
      this.record(req, context, status, code, false, bytesOut);
      return;
    }
    const truncated = !res.writableFinished && code !== null && code !== 'client_closed';
    if (!res.writableFinished && !truncated) {
      status = 499;
      code = 'client_closed';
    }
    this.record(req, context, status, code, truncated, bytesOut);
  }

  private record(
    req: IncomingMessage,
    context: RequestContext,
    status: number,
    code: GatewayErrorCode | null,
    truncated: boolean,
    bytesOut: number,
  ): void {
    const durationMs = performance.now() - context.startedAt;
    // One wall-clock reading for the access line and the live figures.
    const now = Date.now();
    const route = context.route ?? '';
    const upstreamMs = context.upstreamHeadersAt > 0 ? context.upstreamHeadersAt - context.upstreamStartedAt : null;
    if (this.logger.isLevelEnabled('info')) {
      this.accessLog.write(
        formatAccessLogLine(
          {
            method: req.method ?? '',
            path: pathOf(req.url),
            route: context.route,
            upstream: context.upstream,
            target: context.target,
            status,
            code,
            truncated,
            durationMs,
            upstreamMs,
            bytesIn: context.bytesIn,
            bytesOut,
            traceId: context.traceId,
            requestId: context.requestId,
          },
          now,
        ),
      );
    }

    const m = this.metrics;
    const meters = m.routeMeters(route);
    meters.countRequest(req.method, status, code);
    meters.duration.observe(durationMs / 1000);
    if (upstreamMs !== null && context.upstream !== null) m.upstreamDuration.child(context.upstream).observe(upstreamMs / 1000);
    if (code !== null && REJECTION_CODES.has(code)) m.rejections.inc({ route, code });
    if (context.bytesIn > 0) meters.requestBytes.value += context.bytesIn;
    meters.responseBytes.value += bytesOut;
    const binding = context.binding;
    if (binding !== null) {
      // A WebSocket's latency is its handshake, not its lifetime.
      const latencyMs = context.upgraded ? context.upstreamHeadersAt - context.startedAt : durationMs;
      binding.routeTraffic.record(now, status, code, latencyMs);
      // Upstream figures count the requests that were forwarded, timed to the upstream's headers (or its failure).
      if (context.upstreamStartedAt > 0) {
        binding.upstreamTraffic.record(now, status, code, upstreamMs ?? performance.now() - context.upstreamStartedAt);
      }
    }
  }
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  // The query string is left out: it often carries tokens.
  return q === -1 ? url : url.slice(0, q);
}

