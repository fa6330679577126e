import type { ClsStore } from 'nestjs-cls';
import type { GatewayErrorCode } from '../errors/error-catalogue';
import type { RequestEnd } from '../lifecycle/request-end';
import type { PluginCall } from '../plugins/plugin-call';
import type { RouteBinding } from '../routing/route-binding';

/**
 * The CLS store of one request (docs/observability.md "Trace context and request ids"): its trace ids, set before anything else runs, and
 * what the access log reports, filled in as the request moves through the pipeline. Reading
 * it from CLS (rather than a global) is what keeps ids right across async hops.
 */
export interface RequestContext extends ClsStore {
  readonly traceId: string;
  /** The gateway's own span: the parent-id of the traceparent sent upstream. */
  readonly spanId: string;
  readonly traceFlags: string;
  /** Passed upstream only with a valid incoming traceparent (W3C: never parse one without the other). */
  readonly tracestate: string | string[] | undefined;
  readonly requestId: string;
  readonly startedAt: number;
  route: string | null;
  upstream: string | null;
  target: string | null;
  /** The gateway error answered (or the reason the request ended early). */
  code: GatewayErrorCode | null;
  upstreamStartedAt: number;
  upstreamHeadersAt: number;
  bytesIn: number;
  /** The authenticated consumer's id, set by a plugin (rate-limit key `consumer`); null when none. */
  consumerId: string | null;
  /** The matched route's run-time parts (client, permits, figures); null until a route matched. */
  binding: RouteBinding | null;
  /** The request as its route's plugins see it; null when the route has none. */
  plugins: PluginCall | null;
  /** The request switched protocols (a WebSocket): it lasts until either side closes. */
  upgraded: boolean;
  /** When the request is over (response or connection closed); null for CONNECT, which has no response. */
  end: RequestEnd | null;
  /** Headers a policy adds to this request's response, whoever writes it (RateLimit-*); see gateway-response-headers.ts. */
  responseHeaders: Readonly<Record<string, string>> | null;
}
