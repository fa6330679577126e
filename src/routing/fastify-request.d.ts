import type { RequestCancellation } from '../timeout/request-cancellation';
import type { CompiledRoute } from './compiled-route';

declare module 'fastify' {
  interface FastifyRequest {
    /** The route this request matched (set by RouteMatchGuard); null for management endpoints. */
    gatewayRoute: CompiledRoute | null;
    /** The path to request upstream, after normalisation and rewrite. */
    gatewayUpstreamPath: string;
    /** The request's upstream AbortSignal and deadline (set by DeadlineGuard). */
    gatewayCancellation: RequestCancellation | null;
  }
}
