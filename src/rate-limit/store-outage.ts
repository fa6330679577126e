import type { GatewayLogger } from '../logging/gateway-logger';
import type { Counter } from 'prom-client';

/**
 * Whether the shared rate-limit store is reachable: one warning when an outage starts and one
 * line when it ends, however many requests meet it (each failed hit is counted in the metric).
 */
export class StoreOutage {
  private down = false;

  constructor(
    private readonly logger: GatewayLogger,
    private readonly errors: Counter<string>,
    private readonly failMode: 'open' | 'closed',
  ) {}

  get isDown(): boolean {
    return this.down;
  }

  /** A hit failed (timed out, refused, not connected). */
  hitFailed(error: unknown): void {
    this.errors.inc();
    this.connectionFailed(error);
  }

  /** The store is unreachable (a hit failed, or the client lost its connection). */
  connectionFailed(error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn({
      context: 'RateLimit',
      msg: 'rate-limit store unavailable',
      failMode: this.failMode,
      effect: this.failMode === 'open' ? 'rate-limited routes are served without limits' : 'rate-limited routes answer 503 rate_limit_unavailable',
      error: error instanceof Error ? error.message : String(error),
    });
  }

  recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info({ context: 'RateLimit', msg: 'rate-limit store available again' });
  }
}
