import { errors } from './undici-parts';
import { GatewayError, type UpstreamErrorKind } from '../errors/gateway-error';

const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

/**
 * Turns a failed upstream call into the gateway error the client sees, by error type and
 * system error code, never by message text (docs/errors.md "Errors and status codes"). Errors the gateway raised itself
 * (client gone, body too large) pass through unchanged.
 */
export function mapUpstreamError(error: unknown, upstream: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof GatewayError) return cause;
  const kind = upstreamErrorKind(error);
  if (kind === 'timeout' && error instanceof errors.HeadersTimeoutError) {
    return new GatewayError('upstream_timeout', `upstream "${upstream}" sent no response headers in time`, {}, kind, { cause: error });
  }
  return new GatewayError('upstream_unreachable', `upstream "${upstream}" failed (${kind})`, {}, kind, { cause: error });
}

/** The upstream was never reached: connection refused, DNS failure, unreachable, connect timeout. */
export function isConnectFailure(error: unknown): boolean {
  return error instanceof errors.ConnectTimeoutError || upstreamErrorKind(error) === 'refused';
}

export function upstreamErrorKind(error: unknown): UpstreamErrorKind {
  if (error instanceof errors.ConnectTimeoutError || error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
    return 'timeout';
  }
  if (error instanceof errors.SocketError) return 'reset';
  if (
    error instanceof errors.HTTPParserError ||
    error instanceof errors.ResponseContentLengthMismatchError ||
    error instanceof errors.ResponseExceededMaxSizeError
  ) {
    return 'invalid';
  }
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code !== undefined && REFUSED_CODES.has(code)) return 'refused';
  if (code !== undefined && RESET_CODES.has(code)) return 'reset';
  return 'invalid';
}

/** Every target of the upstream is ejected or failing its checks: 503 without trying any. */
export function noHealthyTarget(upstream: string): GatewayError {
  return new GatewayError('no_healthy_target', `every target of upstream "${upstream}" is unhealthy`, { 'retry-after': '1' });
}
