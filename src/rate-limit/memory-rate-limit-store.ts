import { windowRecord, type RateLimitStore, type ThrottlerStorageRecord } from './rate-limit-store';

interface Window {
  hits: number;
  resetAt: number;
}

export interface MemoryStoreLimits {
  /** Most keys held at once; past it the oldest window is dropped. */
  readonly maxKeys: number;
  /** How often expired windows are swept out. */
  readonly sweepIntervalMs: number;
}

/**
 * 50,000 windows: a window costs about 0.2 KB of heap and, with the garbage collector's headroom
 * under load, up to about 0.7 KB of RSS, so the cap keeps the store within a few tens of MiB.
 * More clients than that within one window want the Redis store.
 */
export const MEMORY_STORE_DEFAULTS: MemoryStoreLimits = { maxKeys: 50_000, sweepIntervalMs: 1000 };

/**
 * Fixed-window counters in this process (the default store; one gateway, or limits per
 * replica). Bounded: a timer sweeps expired windows out, and at `maxKeys` the oldest window is
 * dropped, so a flood of distinct client addresses cannot grow it without end. The Map keeps
 * insertion order and a window is re-inserted when it restarts, so "oldest" is cheap to find.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly kind = 'memory';
  private readonly windows = new Map<string, Window>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly limits: MemoryStoreLimits = MEMORY_STORE_DEFAULTS) {
    this.sweeper = setInterval(() => this.sweep(performance.now()), limits.sweepIntervalMs);
    // Made at start-up, outside any request; it must not keep a stopping process alive.
    this.sweeper.unref();
  }

  /** Keys held now (expired ones count until the next sweep). */
  get size(): number {
    return this.windows.size;
  }

  /** Counts one hit on `key` unless its window is full; synchronous, so the guard needs no promise for it. */
  hit(key: string, ttlMs: number, limit: number): ThrottlerStorageRecord {
    const now = performance.now();
    let window = this.windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      if (window !== undefined) this.windows.delete(key);
      else if (this.windows.size >= this.limits.maxKeys) this.makeRoom();
      window = { hits: 0, resetAt: now + ttlMs };
      this.windows.set(key, window);
    }
    if (window.hits >= limit) return windowRecord(window.hits, window.resetAt - now, true);
    window.hits++;
    return windowRecord(window.hits, window.resetAt - now, false);
  }

  increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    return Promise.resolve(this.hit(key, ttl, limit));
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.windows.clear();
    return Promise.resolve();
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }

  /** Drops the oldest window: O(1), so a flood at the cap costs no more per request than below it. */
  private makeRoom(): void {
    const oldest = this.windows.keys().next();
    if (!oldest.done) this.windows.delete(oldest.value);
  }
}
