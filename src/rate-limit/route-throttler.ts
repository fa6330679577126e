import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard, type ThrottlerModuleOptions, type ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerRequest } from '@nestjs/throttler/dist/throttler.guard.interface';
import type { ProxiedRequest } from '../proxy/proxied-request';
import { ClsService } from 'nestjs-cls';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { GatewayConfig, RateLimitFailMode, RateLimitSettings } from '../config/gateway-config.types';
import { GatewayError } from '../errors/gateway-error';
import type { RequestContext } from '../trace/request-context';
import { MemoryRateLimitStore } from './memory-rate-limit-store';
import type { ThrottlerStorageRecord } from './rate-limit-store';
import { rateLimitTracker } from './rate-limit-tracker';

/**
 * @nestjs/throttler's guard driven by the route table rather than by decorators. Its tracker
 * and key hooks give each route its own buckets per `key` (see rate-limit-tracker.ts); its
 * storage is the gateway's store (memory, or Redis shared by every replica). Passing responses
 * carry `RateLimit-Limit`, `-Remaining` and `-Reset`; a request over the limit gets 429
 * `rate_limited` with those and `Retry-After`. When the store cannot answer,
 * `server.rateLimitFailMode` decides: serve (`open`) or 503 `rate_limit_unavailable` (`closed`).
 */
@Injectable()
export class RouteThrottler extends ThrottlerGuard {
  private readonly trustProxy: boolean;
  private readonly failMode: RateLimitFailMode;
  /** The memory store answers synchronously; asked directly, it costs no promise per request. */
  private readonly memory: MemoryRateLimitStore | null;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly cls: ClsService<RequestContext>,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    super(options, storage, reflector);
    this.trustProxy = config.server.trustProxy;
    this.failMode = config.server.rateLimitFailMode;
    this.memory = storage instanceof MemoryRateLimitStore ? storage : null;
  }

  /** Counts the request against its route's `rateLimit`: true, or throws 429 (503 when the store fails closed). */
  check(context: ExecutionContext, request: ProxiedRequest, rateLimit: RateLimitSettings): boolean | Promise<boolean> {
    if (this.memory !== null) {
      const key = this.generateKey(context, this.trackerOf(request));
      this.apply(rateLimit.limit, rateLimit.windowMs, this.memory.hit(key, rateLimit.windowMs, rateLimit.limit));
      return true;
    }
    return this.handleRequest({
      context,
      limit: rateLimit.limit,
      ttl: rateLimit.windowMs,
      blockDuration: rateLimit.windowMs,
      throttler: this.throttlers[0],
      getTracker: this.trackerHook,
      generateKey: this.keyHook,
    });
  }

  /** As a guard of its own (it is used through RateLimitGuard): the route's limit, if it has one. */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ProxiedRequest>();
    const rateLimit = request.gatewayRoute?.settings.rateLimit ?? null;
    return rateLimit === null ? true : this.check(context, request, rateLimit);
  }

  protected override async handleRequest({ context, limit, ttl, blockDuration, throttler, getTracker, generateKey }: ThrottlerRequest): Promise<boolean> {
    const name = throttler.name ?? ROUTE_THROTTLER;
    const key = generateKey(context, await getTracker(context.switchToHttp().getRequest<ProxiedRequest>(), context), name);
    let record: ThrottlerStorageRecord;
    try {
      record = await this.storageService.increment(key, ttl, limit, blockDuration, name);
    } catch {
      // The store logged and counted the outage once; each request only follows the fail mode.
      if (this.failMode === 'open') return true;
      throw new GatewayError('rate_limit_unavailable', 'the rate-limit store cannot answer', { 'retry-after': '1' });
    }
    this.apply(limit, ttl, record);
    return true;
  }

  /** The store's answer as the client sees it: RateLimit-* headers on the response, or 429 with them and Retry-After. */
  private apply(limit: number, ttl: number, record: ThrottlerStorageRecord): void {
    const remaining = String(Math.max(0, limit - record.totalHits));
    const reset = String(record.timeToExpire);
    if (record.isBlocked) {
      throw new GatewayError('rate_limited', `more than ${limit} requests within ${ttl} ms`, {
        'ratelimit-limit': String(limit),
        'ratelimit-remaining': remaining,
        'ratelimit-reset': reset,
        'retry-after': String(record.timeToBlockExpire),
      });
    }
    const requestContext = this.cls.get();
    if (requestContext) requestContext.responseHeaders = { 'ratelimit-limit': String(limit), 'ratelimit-remaining': remaining, 'ratelimit-reset': reset };
  }

  /** The throttler's tracker hook: the request's tracker for its route's `rateLimit.key`. */
  protected override getTracker(request: object): Promise<string> {
    return Promise.resolve(this.trackerOf(request as ProxiedRequest));
  }

  /** The throttler's key hook: one bucket per route and tracker, so routes never share a budget. */
  protected override generateKey(context: ExecutionContext, tracker: string): string {
    return `${context.switchToHttp().getRequest<ProxiedRequest>().gatewayRoute?.id ?? ''}|${tracker}`;
  }

  private trackerOf(request: ProxiedRequest): string {
    const key = request.gatewayRoute?.settings.rateLimit?.key ?? 'ip';
    // The consumer id lives in the request context; only read it (an async-context lookup) when it is the key.
    const consumerId = key === 'consumer' ? (this.cls.get()?.consumerId ?? null) : null;
    return rateLimitTracker(key, request.raw, this.trustProxy, consumerId);
  }

  private readonly trackerHook = (request: object): Promise<string> => this.getTracker(request);
  private readonly keyHook = (context: ExecutionContext, tracker: string): string => this.generateKey(context, tracker);
}

/** The one throttler the gateway registers; its limits come from each route. */
export const ROUTE_THROTTLER = 'route';

