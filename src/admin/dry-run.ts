import type { IncomingHttpHeaders } from 'node:http';
import type { ConcurrencySettings, PathEscapedSlashes, RateLimitSettings, RetrySettings } from '../config/gateway-config.types';
import { explainRoute, type RouteExplanation } from '../routing/route-explainer';
import type { RouteTable } from '../routing/route-table';

export interface AppliedPolicies {
  readonly upstream: string;
  /** Where the request would go: each target's URL with the rewritten path, and whether it is healthy now. */
  readonly targets: ReadonlyArray<{ readonly url: string; readonly healthy: boolean }>;
  readonly timeoutMs: number;
  readonly concurrency: { readonly route: ConcurrencySettings | null; readonly upstream: ConcurrencySettings | null };
  readonly rateLimit: RateLimitSettings | null;
  readonly retry: RetrySettings | null;
  readonly plugins: readonly string[];
}

export type DryRun = RouteExplanation & { readonly policies: AppliedPolicies | null };

/**
 * `admin/explain` (docs/operations.md "Admin API"): the route a request would take and why every other one
 * would not, with the upstream URLs and the policies that would apply. Reads the live table and
 * target health only: no lease, no permit, no counter, no upstream call.
 */
export function dryRun(table: RouteTable, escapedSlashes: PathEscapedSlashes, request: { method: string; path: string; host: string | undefined; headers: IncomingHttpHeaders }): DryRun {
  const explanation = explainRoute(table, request, escapedSlashes);
  const route = explanation.route === null ? undefined : table.routes.find((r) => r.id === explanation.route);
  if (route === undefined || explanation.outcome !== 'route') return { ...explanation, policies: null };
  const { client, routePermits, upstreamPermits } = route.binding;
  const settings = route.settings;
  return {
    ...explanation,
    policies: {
      upstream: settings.upstream,
      targets: client.targets.map((t) => ({ url: `${t.origin}${t.basePath}${explanation.upstreamPath ?? ''}`, healthy: t.healthy })),
      timeoutMs: settings.timeoutMs,
      concurrency: { route: routePermits?.settings ?? null, upstream: upstreamPermits?.settings ?? null },
      rateLimit: settings.rateLimit,
      retry: settings.retry,
      plugins: route.binding.plugins.map((bound) => bound.plugin.name),
    },
  };
}
