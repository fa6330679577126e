import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_CONFIG, GATEWAY_ENVIRONMENT } from '../config/config.tokens';
import type { GatewayEnvironment } from '../config/environment';
import type { GatewayConfig } from '../config/gateway-config.types';
import type { GatewayLogger } from '../logging/gateway-logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { GATEWAY_LOGGER } from '../telemetry/telemetry.tokens';
import { MemoryRateLimitStore } from './memory-rate-limit-store';
import { RATE_LIMIT_STORE, type RateLimitStore } from './rate-limit-store';
import { StoreOutage } from './store-outage';

/** Closes the store's timers and connection when the gateway stops. */
@Injectable()
class RateLimitStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore) {}

  onApplicationShutdown(): Promise<void> {
    return this.store.close();
  }
}

/**
 * The rate-limit counters: in this process by default, in Redis (shared by every replica) when
 * REDIS_URL is set. The Redis store, and ioredis with it (about 1 MiB of heap), is loaded only then.
 */
@Module({
  providers: [
    {
      provide: RATE_LIMIT_STORE,
      inject: [GATEWAY_ENVIRONMENT, GATEWAY_CONFIG, GATEWAY_LOGGER, GatewayMetrics],
      useFactory: async (environment: GatewayEnvironment, config: GatewayConfig, logger: GatewayLogger, metrics: GatewayMetrics): Promise<RateLimitStore> => {
        if (environment.redisUrl === null) {
          const store = new MemoryRateLimitStore();
          metrics.readRateLimitKeysFrom(() => store.size);
          return store;
        }
        const { RedisRateLimitStore } = await import('./redis-rate-limit-store');
        const outage = new StoreOutage(logger, metrics.rateLimitStoreErrors, config.server.rateLimitFailMode);
        return new RedisRateLimitStore(environment.redisUrl, outage);
      },
    },
    RateLimitStoreCloser,
  ],
  exports: [RATE_LIMIT_STORE],
})
export class RateLimitStoreModule {}
