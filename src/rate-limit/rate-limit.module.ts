import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { RateLimitGuard } from './rate-limit.guard';
import { ROUTE_THROTTLER, RouteThrottler } from './route-throttler';
import { RATE_LIMIT_STORE, type RateLimitStore } from './rate-limit-store';
import { RateLimitStoreModule } from './rate-limit-store.module';

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStoreModule],
      inject: [RATE_LIMIT_STORE],
      // One throttler; each route's `rateLimit` supplies its limit and window (RateLimitGuard).
      useFactory: (store: RateLimitStore) => ({ throttlers: [{ name: ROUTE_THROTTLER, limit: 1, ttl: 1000 }], storage: store }),
    }),
  ],
  providers: [RouteThrottler, RateLimitGuard],
  exports: [RateLimitGuard],
})
export class RateLimitModule {}
