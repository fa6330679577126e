import type { ServerResponse } from 'node:http';
import { addGatewayHeaders } from '../trace/gateway-response-headers';
import type { RequestContext } from '../trace/request-context';
import { GatewayError } from './gateway-error';

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  route?: string;
  traceId?: string;
}

export function errorBody(error: GatewayError, route: string | null, traceId: string | null): ErrorBody {
  const body: ErrorBody = { statusCode: error.status, error: error.reason, code: error.code, message: error.message };
  if (route !== null) body.route = route;
  if (traceId !== null) body.traceId = traceId;
  return body;
}

/**
 * Writes a gateway error as the JSON of docs/errors.md "Errors and status codes" straight onto the Node response. Used by the
 * exception filter and by the raw-server guards (absolute-form targets, CONNECT), so there is
 * one error format. The body names the request's trace (`context`), and the response carries the
 * gateway's own headers (X-Request-Id, RateLimit-*). If the response has already started, the
 * only honest signal left is to cut the connection.
 */
export function writeErrorResponse(
  res: ServerResponse,
  error: GatewayError,
  context: RequestContext | undefined,
  route: string | null = null,
  extraHeaders: Readonly<Record<string, string | string[]>> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  const payload = JSON.stringify(errorBody(error, route, context?.traceId ?? null));
  // Extra headers come last: they may be the error's own, edited by the route's plugins.
  res.writeHead(error.status, {
    ...addGatewayHeaders({}, context),
    ...error.headers,
    ...extraHeaders,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

/** The same error as a complete HTTP/1.1 response, for sockets that never became a request (CONNECT, parse errors). */
export function rawErrorResponse(error: GatewayError, traceId: string, requestId: string): string {
  const payload = JSON.stringify(errorBody(error, null, traceId));
  return (
    `HTTP/1.1 ${error.status} ${error.reason}\r\n` +
    `X-Request-Id: ${requestId}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(payload)}\r\n` +
    'Connection: close\r\n\r\n' +
    payload
  );
}
