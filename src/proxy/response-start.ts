import type { ServerResponse } from 'node:http';
import { PluginResponseHead, type PluginCall } from '../plugins/plugin-call';
import type { BoundPlugin } from '../plugins/plugin-chain';
import { runResponsePlugins } from '../plugins/response-plugins';
import type { RequestCancellation } from '../timeout/request-cancellation';
import { addGatewayHeaders } from '../trace/gateway-response-headers';
import type { RequestContext } from '../trace/request-context';
import type { UpstreamResponseHead } from '../upstream/upstream-client';
import { clientResponseHeaders } from './request-headers';

/** The route's plugins and the request as they see it, for the response hooks. */
export interface ResponsePlugins {
  readonly call: PluginCall;
  readonly chain: readonly BoundPlugin[];
}

/**
 * The upstream's response head reaches the client: hop-by-hop headers dropped, the gateway's own
 * added (X-Request-Id, RateLimit-*), the plugins' `onResponse` applied, the deadline stopped.
 * Throws when the request was cancelled meanwhile.
 */
export function startResponse(
  res: ServerResponse,
  head: UpstreamResponseHead,
  cancellation: RequestCancellation,
  context: RequestContext,
  plugins: ResponsePlugins | null,
): ServerResponse {
  // Too late: the 504 (or the client's departure) has already been dealt with.
  if (cancellation.signal.aborted) throw cancellation.signal.reason;
  const headers = addGatewayHeaders(clientResponseHeaders(head.headers), context);
  if (plugins !== null) runResponsePlugins(plugins.chain, new PluginResponseHead(head.statusCode, plugins.call, headers));
  cancellation.responseStarted();
  res.writeHead(head.statusCode, headers);
  return res;
}
