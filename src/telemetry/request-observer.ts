import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { GatewayLogger } from '../logging/gateway-logger';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { RequestContext } from '../trace/request-context';

const METHOD_LABELS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY']);
const REJECTION_CODES = new Set(['rate_limited', 'concurrency_limit', 'queue_timeout']);

/**
 * Records how each request ended: one access-log line and the request metrics, written once
 * on the response's 'close' (which fires on success, error and client abort alike). A response
 * that did not finish is a client abort (499 client_closed) unless the gateway cut it for a
 * reason of its own, which the line then names (`truncated: true`).
 */
export class RequestObserver {
  constructor(
    private readonly logger: GatewayLogger,
    private readonly metrics: GatewayMetrics,
  ) {}

  track(req: IncomingMessage, res: ServerResponse, context: RequestContext): void {
    const socket = req.socket;
    const writtenBefore = socket.bytesWritten;
    res.once('close', () => this.finish(req, res, context, socket.bytesWritten - writtenBefore));
  }

  private finish(req: IncomingMessage, res: ServerResponse, context: RequestContext, bytesOut: number): void {
    const durationMs = performance.now() - context.startedAt;
    let status = res.statusCode;
    let code = context.code;
    const truncated = !res.writableFinished && code !== null && code !== 'client_closed';
    if (!res.writableFinished && !truncated) {
      status = 499;
      code = 'client_closed';
    }
    const route = context.route ?? '';
    const upstreamMs = context.upstreamHeadersAt > 0 ? context.upstreamHeadersAt - context.upstreamStartedAt : null;
    const line: Record<string, unknown> = {
      msg: 'request',
      method: req.method,
      path: pathOf(req.url),
      route: context.route,
      upstream: context.upstream,
      target: context.target,
      status,
      durationMs: round(durationMs),
      upstreamMs: upstreamMs === null ? null : round(upstreamMs),
      bytesIn: context.bytesIn,
      bytesOut,
      traceId: context.traceId,
      requestId: context.requestId,
    };
    if (code !== null) line.code = code;
    if (truncated) line.truncated = true;
    this.logger.info(line);

    const m = this.metrics;
    const method = req.method && METHOD_LABELS.has(req.method) ? req.method : 'OTHER';
    m.requests.inc({ route, method, status_class: `${Math.floor(status / 100)}xx`, code: code ?? '' });
    m.requestDuration.observe({ route }, durationMs / 1000);
    if (upstreamMs !== null && context.upstream !== null) m.upstreamDuration.observe({ upstream: context.upstream }, upstreamMs / 1000);
    if (code !== null && REJECTION_CODES.has(code)) m.rejections.inc({ route, code });
    if (context.bytesIn > 0) m.requestBytes.inc({ route }, context.bytesIn);
    m.responseBytes.inc({ route }, bytesOut);
  }
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  // The query string is left out: it often carries tokens.
  return q === -1 ? url : url.slice(0, q);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
