import Redis from 'ioredis';
import { DeadlineQueue } from '../timeout/deadline-queue';
import { windowRecord, type RateLimitStore, type ThrottlerStorageRecord } from './rate-limit-store';
import type { StoreOutage } from './store-outage';

/** Slower than this and the store counts as unavailable for that request (docs/configuration.md "Config file reference" `rateLimitFailMode`). */
export const REDIS_HIT_TIMEOUT_MS = 50;
export const REDIS_KEY_PREFIX = 'gateway:rl:';

/**
 * One hit, atomically, so concurrent hits from every replica are counted exactly: a full window
 * answers "blocked" without counting the hit; otherwise the count goes up and the first hit of a
 * window sets its expiry. Returns { hits, ms left in the window, blocked 0/1 }.
 */
const HIT_SCRIPT = `
local limit = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= limit then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); left = tonumber(ARGV[2]) end
  return {current, left, 1}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); left = tonumber(ARGV[2]) end
return {current, left, 0}
`;

type HitClient = Redis & { gatewayHit(key: string, limit: number, ttlMs: number): Promise<[number, number, number]> };

/** Redis did not answer a hit within REDIS_HIT_TIMEOUT_MS. */
export class RateLimitStoreTimeout extends Error {
  constructor() {
    super(`the rate-limit store did not answer within ${REDIS_HIT_TIMEOUT_MS} ms`);
    this.name = 'RateLimitStoreTimeout';
  }
}

/**
 * Fixed-window counters in Redis, shared by every replica (REDIS_URL). A hit that is not
 * answered within 50 ms fails, and one made while the connection is down fails at once (no
 * offline queue, no retries): the guard then applies `rateLimitFailMode`. The client reconnects by itself, so
 * limits apply again as soon as Redis is back.
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis';
  private readonly client: HitClient;
  private readonly deadlines = new DeadlineQueue();
  private closed = false;

  constructor(
    url: string,
    private readonly outage: StoreOutage,
  ) {
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      // A Redis that stops answering altogether (connection open, nothing read for 2 s) is
      // dropped and reconnected, so hits waiting on it fail instead of piling up.
      socketTimeout: 2000,
      // Reconnect quickly at first, then every 2 s while Redis stays away.
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    }) as HitClient;
    this.client.defineCommand('gatewayHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.client.on('error', (error: unknown) => this.outage.connectionFailed(error));
    this.client.on('ready', () => this.outage.recovered());
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    try {
      const [hits, msLeft, blocked] = await this.withinTimeout(this.client.gatewayHit(REDIS_KEY_PREFIX + key, limit, ttl));
      this.outage.hitSucceeded();
      return windowRecord(hits, msLeft, blocked === 1);
    } catch (error) {
      this.outage.hitFailed(error);
      throw error;
    }
  }

  /**
   * The hit's answer, or RateLimitStoreTimeout after 50 ms. The timeout is judged one event-loop
   * turn late on purpose (setImmediate runs after the I/O phase): when the gateway itself was
   * busy for 50 ms, Redis's answer is already waiting in the socket and is taken, instead of
   * failing a hit Redis answered in time. Deadlines share one timer (DeadlineQueue).
   */
  private withinTimeout<T>(answer: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const deadline = this.deadlines.schedule(REDIS_HIT_TIMEOUT_MS, () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          reject(new RateLimitStoreTimeout());
        }),
      );
      answer.then(
        (value) => {
          if (settled) return;
          settled = true;
          deadline.cancel();
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          deadline.cancel();
          reject(error);
        },
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.disconnect();
  }
}
