import type { ThrottlerStorage } from '@nestjs/throttler';

/** The rate-limit store the throttler counts in (its ThrottlerStorage), and what the gateway needs of it besides. */
export interface RateLimitStore extends ThrottlerStorage {
  readonly kind: 'memory' | 'redis';
  /** Stops its timers and connections; safe to call twice. */
  close(): Promise<void>;
}

export const RATE_LIMIT_STORE = Symbol('RATE_LIMIT_STORE');

/** What ThrottlerStorage.increment resolves with (the package does not export the type by name). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * A store's answer for one hit, in the throttler's terms: `timeToExpire` and `timeToBlockExpire`
 * are whole seconds (rounded up). A hit over the limit is refused without being counted, so
 * rejected requests never eat into the next ones' budget.
 */
export function windowRecord(hits: number, msLeft: number, blocked: boolean): ThrottlerStorageRecord {
  const seconds = Math.max(1, Math.ceil(msLeft / 1000));
  return { totalHits: hits, timeToExpire: seconds, isBlocked: blocked, timeToBlockExpire: blocked ? seconds : 0 };
}
