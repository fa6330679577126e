import type { RouteSettings } from '../../src/config/gateway-config.types';
import { RouteTable } from '../../src/routing/route-table';

/** A route as a test writes it: an id, and only the fields that matter to the test. */
export type RouteInput = Partial<RouteSettings> & { readonly id: string };

/** Resolved route settings with every field at its default (upstream `users`). */
export function routeSettings(input: RouteInput): RouteSettings {
  return {
    path: null,
    pathRegex: null,
    methods: null,
    host: null,
    headers: {},
    upstream: 'users',
    rewrite: null,
    stripPrefix: null,
    timeoutMs: 30_000,
    concurrency: null,
    rateLimit: null,
    retry: null,
    plugins: [],
    ...input,
  };
}

export function routeTable(routes: readonly RouteInput[], managementPrefix = '/_gateway'): RouteTable {
  return new RouteTable(routes.map(routeSettings), managementPrefix);
}
