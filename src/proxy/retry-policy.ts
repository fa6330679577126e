import type { AttemptProgress } from '../upstream/upstream-client';
import { isConnectFailure } from '../upstream/upstream-error-mapper';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const RETRY_STATUS = new Set([502, 503]);
const STALE_SOCKET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * When a failed attempt is tried again (docs/policies.md "Retries": `retry`, and broken connections before any response).
 * Retries go to the next target and stay within the route's deadline (the same cancellation signal).
 */
export class RetryPolicy {
  private readonly retries: number;
  private readonly idempotent: boolean;
  private staleReplayUsed = false;

  /** `attempts`: the route's `retry.attempts` (0 when it has none). */
  constructor(method: string, attempts: number, hasBody: boolean) {
    this.idempotent = IDEMPOTENT.has(method);
    // A streamed body cannot be sent twice, so only body-less idempotent requests are retried.
    this.retries = this.idempotent && !hasBody ? attempts : 0;
  }

  /** An upstream answer of 502/503 on an attempt that has retries left is discarded and retried. */
  retriesStatus(attempt: number, statusCode: number): boolean {
    return attempt < this.retries && RETRY_STATUS.has(statusCode);
  }

  /**
   * Connect failures are retried while attempts remain. Independently, a request whose socket
   * was closed or reset before any response arrived, and whose body (if any) is still unread,
   * is replayed once on a fresh connection, but only where that is safe (docs/policies.md "Retries"): nothing
   * of it reached the socket, so the upstream cannot have seen it, or its method is idempotent.
   * A POST the upstream may have read is never sent twice.
   */
  retriesError(attempt: number, error: unknown, progress: AttemptProgress, bodyReplayable: boolean): boolean {
    if (attempt < this.retries && isConnectFailure(error)) return true;
    if (this.staleReplayUsed || !bodyReplayable || !isStaleSocketFailure(error)) return false;
    if (progress.requestWritten && !this.idempotent) return false;
    this.staleReplayUsed = true;
    return true;
  }
}

function isStaleSocketFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STALE_SOCKET_CODES.has(code);
}
