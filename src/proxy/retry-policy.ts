import type { IncomingMessage } from 'node:http';
import { errors } from 'undici';
import type { CompiledRoute } from '../routing/compiled-route';
import { upstreamErrorKind } from '../upstream/upstream-error-mapper';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const RETRY_STATUS = new Set([502, 503]);
const STALE_SOCKET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * When a failed attempt is tried again (CONTRACT §3 `retry`, §5 stale keep-alive sockets).
 * Retries go to the next target and stay within the route's deadline (the same AbortSignal).
 */
export class RetryPolicy {
  private readonly retries: number;
  private staleReplayUsed = false;

  constructor(req: IncomingMessage, route: CompiledRoute, hasBody: boolean) {
    // A streamed body cannot be sent twice, so only body-less idempotent requests are retried.
    this.retries = IDEMPOTENT.has(req.method!) && !hasBody ? (route.settings.retry?.attempts ?? 0) : 0;
  }

  /** An upstream answer of 502/503 on an attempt that has retries left is discarded and retried. */
  retriesStatus(attempt: number, statusCode: number): boolean {
    return attempt < this.retries && RETRY_STATUS.has(statusCode);
  }

  /**
   * Connect failures are retried while attempts remain. Independently, a request whose socket
   * was closed or reset before any response arrived and before any byte of its body was read is
   * replayed once whatever its method: it hit a keep-alive socket the upstream had already
   * closed, so the upstream cannot have acted on it.
   */
  retriesError(attempt: number, error: unknown, bodyUntouched: boolean): boolean {
    if (attempt < this.retries && isConnectFailure(error)) return true;
    if (!this.staleReplayUsed && bodyUntouched && isStaleSocketFailure(error)) {
      this.staleReplayUsed = true;
      return true;
    }
    return false;
  }
}

function isConnectFailure(error: unknown): boolean {
  return error instanceof errors.ConnectTimeoutError || upstreamErrorKind(error) === 'refused';
}

function isStaleSocketFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STALE_SOCKET_CODES.has(code);
}
