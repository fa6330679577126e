/** The validated, defaulted and frozen gateway config handed to every module. */

export type LoadBalancing = 'round-robin' | 'least-request';

export type PathEscapedSlashes = 'reject' | 'keep';

export interface ServerSettings {
  readonly bodyLimitBytes: number;
  readonly trustProxy: boolean;
  readonly managementPrefix: string;
  /** A path holding %2F or %5C: refused with 400 (`reject`), or passed on as it is (`keep`). */
  readonly pathEscapedSlashes: PathEscapedSlashes;
  /** `open`: serve the request; `closed`: 503 rate_limit_unavailable. */
  readonly rateLimitFailMode: RateLimitFailMode;
  /** The whole request head must arrive within this, or the connection gets 408 request_timeout. */
  readonly headersTimeoutMs: number;
  /** A larger request head (Node's count: target, header names and values) gets 431 headers_too_large. */
  readonly maxHeaderBytes: number;
  /** Longest pause between two pieces of a request body being read; then 408 request_timeout (or the connection is cut). */
  readonly bodyIdleTimeoutMs: number;
}

/** A route's plugin, as written: its `config` is validated by the plugin once plugins are loaded. */
export interface PluginSettings {
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
}

export interface DefaultSettings {
  readonly timeoutMs: number;
  readonly plugins: readonly PluginSettings[];
}

export interface PoolSettings {
  readonly maxSockets: number;
  readonly maxIdleSockets: number;
  readonly idleTimeoutMs: number;
}

export interface ConcurrencySettings {
  readonly limit: number;
  readonly queue: number;
  readonly queueTimeoutMs: number;
}

export interface HealthCheckSettings {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

/** Ejection of a target on proxied traffic (see docs/policies.md "Upstream health"). */
export interface PassiveHealthSettings {
  /** Consecutive connect failures or 502/503/504 answers that eject a target; 0 turns ejection off. */
  readonly consecutiveFailures: number;
  /** The first ejection's length; each ejection in a row doubles it. */
  readonly ejectMs: number;
  /** The longest ejection. */
  readonly maxEjectMs: number;
}

export interface UpstreamSettings {
  readonly name: string;
  readonly targets: readonly string[];
  readonly loadBalancing: LoadBalancing;
  readonly pool: PoolSettings;
  readonly connectTimeoutMs: number;
  readonly concurrency: ConcurrencySettings | null;
  readonly healthCheck: HealthCheckSettings | null;
  readonly passiveHealth: PassiveHealthSettings;
  readonly preserveHost: boolean;
}

/** `ip`, `route`, or `header:<lower-case name>`. */
export type RateLimitKey = 'ip' | 'route' | 'consumer' | `header:${string}`;

/** What a rate-limited route does when the shared store (Redis) cannot answer in time. */
export type RateLimitFailMode = 'open' | 'closed';

export interface RateLimitSettings {
  readonly limit: number;
  readonly windowMs: number;
  readonly key: RateLimitKey;
}

export interface RetrySettings {
  readonly attempts: number;
}

export interface RouteSettings {
  readonly id: string;
  /** Exactly one of `path` and `pathRegex` is set. */
  readonly path: string | null;
  readonly pathRegex: string | null;
  /** Upper-case method names; null means every method. */
  readonly methods: readonly string[] | null;
  readonly host: string | null;
  /** Lower-case header name to exact value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly upstream: string;
  readonly rewrite: string | null;
  readonly stripPrefix: string | null;
  readonly timeoutMs: number;
  readonly concurrency: ConcurrencySettings | null;
  readonly rateLimit: RateLimitSettings | null;
  readonly retry: RetrySettings | null;
  /** Run in this order before the upstream call: the route's own, or else `defaults.plugins`. */
  readonly plugins: readonly PluginSettings[];
}

export interface GatewayConfig {
  readonly server: ServerSettings;
  readonly defaults: DefaultSettings;
  readonly upstreams: Readonly<Record<string, UpstreamSettings>>;
  readonly routes: readonly RouteSettings[];
}
