import type { GatewayConfigSchema, UpstreamSchema } from './gateway-config.schema';
import type {
  ConcurrencySettings,
  GatewayConfig,
  PluginSettings,
  RateLimitKey,
  RouteSettings,
  UpstreamSettings,
} from './gateway-config.types';
import type { ConcurrencySchema, PluginEntrySchema } from './gateway-config.schema';

export const CONFIG_DEFAULTS = Object.freeze({
  bodyLimitBytes: 10 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  maxHeaderBytes: 16_384,
  bodyIdleTimeoutMs: 10_000,
  managementPrefix: '/_gateway',
  timeoutMs: 30_000,
  maxSockets: 100,
  idleTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
  queueTimeoutMs: 1_000,
  healthIntervalMs: 5_000,
  healthTimeoutMs: 1_000,
  // Envoy's outlier-detection defaults: 5 consecutive failures, 30 s, at most 300 s.
  passiveConsecutiveFailures: 5,
  passiveEjectMs: 30_000,
  passiveMaxEjectMs: 300_000,
});

/** Applies defaults to a validated schema and deep-freezes the result. */
export function resolveGatewayConfig(schema: GatewayConfigSchema, upstreams: Map<string, UpstreamSchema>): GatewayConfig {
  const defaults = {
    timeoutMs: schema.defaults?.timeoutMs ?? CONFIG_DEFAULTS.timeoutMs,
    plugins: resolvePlugins(schema.defaults?.plugins) ?? [],
  };
  const config: GatewayConfig = {
    server: {
      bodyLimitBytes: schema.server?.bodyLimitBytes ?? CONFIG_DEFAULTS.bodyLimitBytes,
      trustProxy: schema.server?.trustProxy ?? false,
      managementPrefix: schema.server?.managementPrefix ?? CONFIG_DEFAULTS.managementPrefix,
      pathEscapedSlashes: schema.server?.pathEscapedSlashes ?? 'reject',
      rateLimitFailMode: schema.server?.rateLimitFailMode ?? 'open',
      headersTimeoutMs: schema.server?.headersTimeoutMs ?? CONFIG_DEFAULTS.headersTimeoutMs,
      maxHeaderBytes: schema.server?.maxHeaderBytes ?? CONFIG_DEFAULTS.maxHeaderBytes,
      bodyIdleTimeoutMs: schema.server?.bodyIdleTimeoutMs ?? CONFIG_DEFAULTS.bodyIdleTimeoutMs,
    },
    defaults,
    upstreams: Object.fromEntries([...upstreams].map(([name, u]) => [name, resolveUpstream(name, u)])),
    routes: schema.routes.map((r): RouteSettings => ({
      id: r.id,
      path: r.path ?? null,
      pathRegex: r.pathRegex ?? null,
      methods: r.methods ?? null,
      host: r.host ?? null,
      headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k, String(v)])),
      upstream: r.upstream,
      rewrite: r.rewrite ?? null,
      stripPrefix: r.stripPrefix ?? null,
      timeoutMs: r.timeoutMs ?? defaults.timeoutMs,
      concurrency: resolveConcurrency(r.concurrency),
      rateLimit: r.rateLimit
        ? { limit: r.rateLimit.limit, windowMs: r.rateLimit.windowMs, key: (r.rateLimit.key ?? 'ip') as RateLimitKey }
        : null,
      retry: r.retry ? { attempts: r.retry.attempts } : null,
      plugins: resolvePlugins(r.plugins) ?? defaults.plugins,
    })),
  };
  return deepFreeze(config);
}

function resolvePlugins(entries: PluginEntrySchema[] | undefined): PluginSettings[] | null {
  return entries === undefined ? null : entries.map((p) => ({ name: p.name, config: { ...(p.config ?? {}) } }));
}

function resolveUpstream(name: string, u: UpstreamSchema): UpstreamSettings {
  const maxSockets = u.pool?.maxSockets ?? CONFIG_DEFAULTS.maxSockets;
  return {
    name,
    targets: u.targets.map((t) => t.replace(/\/+$/, '')),
    loadBalancing: u.loadBalancing ?? 'round-robin',
    pool: {
      maxSockets,
      maxIdleSockets: u.pool?.maxIdleSockets ?? maxSockets,
      idleTimeoutMs: u.pool?.idleTimeoutMs ?? CONFIG_DEFAULTS.idleTimeoutMs,
    },
    connectTimeoutMs: u.connectTimeoutMs ?? CONFIG_DEFAULTS.connectTimeoutMs,
    concurrency: resolveConcurrency(u.concurrency),
    healthCheck: u.healthCheck
      ? {
          path: u.healthCheck.path,
          intervalMs: u.healthCheck.intervalMs ?? CONFIG_DEFAULTS.healthIntervalMs,
          timeoutMs: u.healthCheck.timeoutMs ?? CONFIG_DEFAULTS.healthTimeoutMs,
          unhealthyThreshold: u.healthCheck.unhealthyThreshold ?? 3,
          healthyThreshold: u.healthCheck.healthyThreshold ?? 1,
        }
      : null,
    passiveHealth: {
      consecutiveFailures: u.passiveHealth?.consecutiveFailures ?? CONFIG_DEFAULTS.passiveConsecutiveFailures,
      ejectMs: u.passiveHealth?.ejectMs ?? CONFIG_DEFAULTS.passiveEjectMs,
      maxEjectMs: Math.max(u.passiveHealth?.maxEjectMs ?? CONFIG_DEFAULTS.passiveMaxEjectMs, u.passiveHealth?.ejectMs ?? CONFIG_DEFAULTS.passiveEjectMs),
    },
    preserveHost: u.preserveHost ?? false,
  };
}

function resolveConcurrency(c: ConcurrencySchema | undefined): ConcurrencySettings | null {
  if (!c) return null;
  return { limit: c.limit, queue: c.queue ?? 0, queueTimeoutMs: c.queueTimeoutMs ?? CONFIG_DEFAULTS.queueTimeoutMs };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
