import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { newSpanId, newTraceId } from './random-ids';
import type { RequestContext } from './request-context';
import { acceptableRequestId } from './request-id';
import { formatTraceParent, parseTraceParent } from './traceparent';

/** A new trace is recorded by default, so tracing backends downstream keep it. */
const NEW_TRACE_FLAGS = '01';

/** Builds a request's context from its headers: the incoming trace continued, or a new one. */
export function createRequestContext(req: IncomingMessage): RequestContext {
  const parent = parseTraceParent(req.headers.traceparent);
  const traceId = parent?.traceId ?? newTraceId();
  return {
    traceId,
    spanId: newSpanId(),
    traceFlags: parent?.flags ?? NEW_TRACE_FLAGS,
    tracestate: parent ? req.headers.tracestate : undefined,
    // A generated request id reuses a new trace's id (one id to search for); a continued trace gets its own.
    requestId: acceptableRequestId(req.headers['x-request-id']) ?? (parent ? newTraceId() : traceId),
    startedAt: performance.now(),
    route: null,
    upstream: null,
    target: null,
    code: null,
    upstreamStartedAt: 0,
    upstreamHeadersAt: 0,
    bytesIn: 0,
    consumerId: null,
    binding: null,
    plugins: null,
    upgraded: false,
    end: null,
    responseHeaders: null,
  };
}

/** The trace headers of the upstream hop: same trace-id, the gateway's span as parent-id. */
export function upstreamTraceHeaders(context: RequestContext): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {
    traceparent: formatTraceParent(context.traceId, context.spanId, context.traceFlags),
    'x-request-id': context.requestId,
  };
  if (context.tracestate !== undefined) headers.tracestate = context.tracestate;
  return headers;
}
