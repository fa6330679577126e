import Redis from 'ioredis';
import { windowRecord, type RateLimitStore, type ThrottlerStorageRecord } from './rate-limit-store';
import type { StoreOutage } from './store-outage';

/** Slower than this and the store counts as unavailable for that request (CONTRACT §3 `rateLimitFailMode`). */
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

/**
 * Fixed-window counters in Redis, shared by every replica (REDIS_URL). A hit that cannot be
 * answered within 50 ms, or while the connection is down, rejects at once (no offline queue, no
 * retries): the guard then applies `rateLimitFailMode`. The client reconnects by itself, so
 * limits apply again as soon as Redis is back.
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis';
  private readonly client: HitClient;
  private closed = false;

  constructor(
    url: string,
    private readonly outage: StoreOutage,
  ) {
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_HIT_TIMEOUT_MS,
      connectTimeout: 2000,
      // Reconnect quickly at first, then every 2 s while Redis stays away.
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    }) as HitClient;
    this.client.defineCommand('gatewayHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.client.on('error', (error: unknown) => this.outage.connectionFailed(error));
    this.client.on('ready', () => this.outage.recovered());
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    try {
      const [hits, msLeft, blocked] = await this.client.gatewayHit(REDIS_KEY_PREFIX + key, limit, ttl);
      this.outage.recovered();
      return windowRecord(hits, msLeft, blocked === 1);
    } catch (error) {
      this.outage.hitFailed(error);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.disconnect();
  }
}
