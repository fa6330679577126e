import type { GatewayLogger } from '../logging/gateway-logger';
import type { Counter } from 'prom-client';

/** Successful hits in a row that end an outage (a store answering around the 50 ms limit must not flap the log). */
const HITS_TO_RECOVER = 3;

/**
 * Whether the shared rate-limit store is reachable: one warning when an outage starts and one
 * line when it ends (the client reconnected, or a few hits in a row succeeded), however many
 * requests meet it (each failed hit is counted in the metric).
 */
export class StoreOutage {
  private down = false;
  private successesInARow = 0;

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
    this.successesInARow = 0;
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

  /** A hit was answered in time. */
  hitSucceeded(): void {
    if (this.down && ++this.successesInARow >= HITS_TO_RECOVER) this.recovered();
  }

  /** The store is back (the client reconnected, or hits succeed again). */
  recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.successesInARow = 0;
    this.logger.info({ context: 'RateLimit', msg: 'rate-limit store available again' });
  }
}
