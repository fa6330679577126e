import { Inject, Injectable } from '@nestjs/common';
import { PermitRegistry } from '../concurrency/permit-registry.service';
import { diffConfigs, type ConfigChanges } from '../config/config-diff';
import { ConfigError } from '../config/config-error';
import { loadGatewayConfigFile } from '../config/config-loader';
import { GATEWAY_ENVIRONMENT } from '../config/config.tokens';
import type { GatewayEnvironment } from '../config/environment';
import type { GatewayConfig } from '../config/gateway-config.types';
import type { GatewayLogger } from '../logging/gateway-logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { RouteTableService, type PreparedConfig } from '../routing/route-table.service';
import { GATEWAY_LOGGER } from '../telemetry/telemetry.tokens';
import { UpstreamRegistry } from '../upstream/upstream-registry.service';

export type ReloadTrigger = 'admin' | 'signal' | 'file';

export type ReloadOutcome =
  | { readonly result: 'success'; readonly changes: ConfigChanges }
  | { readonly result: 'failure'; readonly errors: readonly string[] };

/**
 * Re-reads the config file and makes it live (docs/operations.md "Reloading the config"): validated in full
 * first, so an invalid file changes nothing; then upstream clients and permit pools are carried
 * over where their settings did not change, and the new route table is published in one
 * assignment. All of it runs synchronously, so no request sees half a reload.
 */
@Injectable()
export class ConfigReloader {
  constructor(
    @Inject(GATEWAY_ENVIRONMENT) private readonly environment: GatewayEnvironment,
    private readonly routes: RouteTableService,
    private readonly upstreams: UpstreamRegistry,
    private readonly permits: PermitRegistry,
    private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_LOGGER) private readonly logger: GatewayLogger,
  ) {}

  reload(trigger: ReloadTrigger): ReloadOutcome {
    let loaded: GatewayConfig;
    try {
      loaded = loadGatewayConfigFile(this.environment.configPath).config;
    } catch (error) {
      return this.refused(trigger, error instanceof ConfigError ? error.lines : [`config: ${error instanceof Error ? error.message : String(error)}`]);
    }
    const running = this.routes.config;
    const changes = diffConfigs(running, loaded);
    // The listener and the management endpoints are built at start: `server` stays as it is.
    const next: GatewayConfig = Object.freeze({ ...loaded, server: running.server });
    let prepared: PreparedConfig;
    try {
      prepared = this.routes.prepare(next);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return this.refused(trigger, error.lines);
    }
    this.upstreams.apply(next.upstreams);
    this.permits.apply(next);
    // Published even when nothing in the file changed: a plugin's own files (api-key keys) may have.
    this.routes.publish(prepared);
    this.metrics.configReloads.inc({ result: 'success' });
    this.logger.info({ context: 'Config', msg: 'config reloaded', trigger, routes: changes.routes, upstreams: changes.upstreams });
    if (changes.restartRequired.length > 0) {
      this.logger.warn({ context: 'Config', msg: 'config fields that only a restart applies were changed', fields: changes.restartRequired });
    }
    return { result: 'success', changes };
  }

  private refused(trigger: ReloadTrigger, errors: string[]): ReloadOutcome {
    this.metrics.configReloads.inc({ result: 'failure' });
    this.logger.error({ context: 'Config', msg: 'config reload refused; the previous config keeps serving', trigger, errors });
    return { result: 'failure', errors };
  }
}
