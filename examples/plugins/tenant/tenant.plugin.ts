import { Injectable, Logger } from '@nestjs/common';
// Types only: nothing of the gateway is loaded at run time, so the compiled module works with
// the stock build and image (GATEWAY_PLUGINS) as well as from a team's own entry point.
import type { GatewayPlugin, PluginCompletion, PluginRequest, PluginResponse } from 'nest-gateway';
import { TenantConfig } from './tenant.config';

export interface TenantRoute {
  readonly suffix: string;
  readonly tenants: ReadonlySet<string>;
  readonly header: string;
}

/**
 * An example plugin: finds the tenant in the Host (`acme.api.example.com`), refuses unknown
 * ones with 403, tells the upstream and the client which tenant it was, and counts requests per
 * tenant when they end.
 */
@Injectable()
export class TenantPlugin implements GatewayPlugin<TenantConfig, TenantRoute> {
  readonly name = 'tenant';
  readonly configClass = TenantConfig;
  /** Requests served per tenant since start (an audit a real plugin might ship elsewhere). */
  readonly served = new Map<string, number>();
  private readonly logger = new Logger('TenantPlugin');

  // Once per route and config (start and every reload): throw to reject the config.
  configure(config: TenantConfig): TenantRoute {
    if (config.tenants.some((t) => !/^[a-z0-9-]+$/.test(t))) throw new Error('tenants: each must be a lower-case host label');
    return { suffix: `.${config.hostSuffix}`, tenants: new Set(config.tenants), header: config.header ?? 'x-tenant' };
  }

  beforeUpstream(request: PluginRequest, route: TenantRoute): void {
    const host = (request.headers.host ?? '').split(':')[0].toLowerCase();
    const tenant = host.endsWith(route.suffix) ? host.slice(0, -route.suffix.length) : '';
    if (!route.tenants.has(tenant)) request.refuse('forbidden', `unknown tenant "${tenant}"`);
    // Replaces whatever the client sent: the upstream can trust it.
    request.setRequestHeader(route.header, tenant);
  }

  onResponse(response: PluginResponse, route: TenantRoute): void {
    const tenant = response.request.headers[route.header];
    if (typeof tenant === 'string') response.setHeader(route.header, tenant);
  }

  onComplete(completion: PluginCompletion, route: TenantRoute): void {
    const tenant = completion.requestHeaders[route.header];
    if (typeof tenant !== 'string') return;
    this.served.set(tenant, (this.served.get(tenant) ?? 0) + 1);
    this.logger.debug(`tenant ${tenant}: ${completion.status} in ${completion.durationMs.toFixed(1)} ms`);
  }
}
