import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { CompiledRoute } from '../routing/compiled-route';
import { clientAddress } from './client-address';
import type { RequestCancellation } from '../timeout/request-cancellation';

/**
 * A proxied request as the pipeline's guards see it (`switchToHttp().getRequest()`): Node's
 * request, the fields a guard of a Fastify app reads (`headers`, `method`, `url`, `ip`, `raw`),
 * and the one place where the steps leave what the next ones need.
 */
export class ProxiedRequest {
  /** The route this request matched (set by RouteMatchGuard). */
  gatewayRoute: CompiledRoute | null = null;
  /** The path to request upstream, after normalisation and rewrite. */
  gatewayUpstreamPath = '';
  /** The request's upstream cancellation signal and deadline (set by DeadlineGuard). */
  gatewayCancellation: RequestCancellation | null = null;

  constructor(readonly raw: IncomingMessage) {}

  get headers(): IncomingHttpHeaders {
    return this.raw.headers;
  }

  get method(): string {
    return this.raw.method ?? 'GET';
  }

  /** The request target as sent (path and query). */
  get url(): string {
    return this.raw.url ?? '/';
  }

  /** The client's address as plugins and the upstream hear it: the connection's peer (X-Forwarded-For is the upstream's to read). */
  get ip(): string {
    return clientAddress(this.raw);
  }
}

/** The response side of a proxied request (`switchToHttp().getResponse()`), shaped like Fastify's reply. */
export interface ProxiedReply {
  readonly raw: ServerResponse;
}
