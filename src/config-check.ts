import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadGatewayEnvironment } from './bootstrap';
import { ConfigError } from './config/config-error';
import { loadGatewayConfigFile } from './config/config-loader';
import { GatewayConfigModule } from './config/gateway-config.module';
import type { GatewayConfig } from './config/gateway-config.types';
import { DEFAULT_CONFIG_PATH, type GatewayEnvironment } from './config/environment';
import { loadPluginModules } from './plugins/plugin-loader';
import { PluginRegistry } from './plugins/plugin-registry.service';
import { GatewayPluginsModule, type PluginModule } from './plugins/plugins.module';
import { Telemetry } from './telemetry/telemetry';
import { TelemetryModule } from './telemetry/telemetry.module';

export interface ConfigCheck {
  readonly ok: boolean;
  /** Every problem (`env: …` / `config: …`, each naming its variable or field), or the one-line summary. */
  readonly lines: readonly string[];
}

/**
 * `--check [file]` (docs/configuration.md "Checking a config"): the environment, the config file
 * (`file`, else GATEWAY_CONFIG) and every route's plugin settings, validated by the same code as
 * start-up and reload, without starting the gateway: no port, no upstream call, no Redis.
 */
export async function checkGatewayConfig(file: string | undefined, plugins: readonly PluginModule[] = []): Promise<ConfigCheck> {
  const problems: string[] = [];
  let environment: GatewayEnvironment | null = null;
  let envModule: DynamicModule | null = null;
  try {
    ({ environment, envModule } = await loadGatewayEnvironment());
  } catch (error) {
    problems.push(...linesOf(error));
  }
  const path = file ?? environment?.configPath ?? process.env.GATEWAY_CONFIG ?? DEFAULT_CONFIG_PATH;
  let config: GatewayConfig | null = null;
  try {
    config = loadGatewayConfigFile(path).config;
  } catch (error) {
    problems.push(...linesOf(error));
  }
  if (config !== null && environment !== null && envModule !== null) {
    try {
      const all = [...plugins, ...loadPluginModules(environment.pluginPaths)];
      await checkPlugins(config, environment, envModule, all);
    } catch (error) {
      problems.push(...linesOf(error));
    }
  }
  if (problems.length > 0 || config === null) return { ok: false, lines: problems };
  return { ok: true, lines: [summaryOf(path, config)] };
}

/** Builds only what plugins can inject (the env, config and telemetry modules, and the plugin modules) and configures every route's plugins. */
async function checkPlugins(config: GatewayConfig, environment: GatewayEnvironment, envModule: DynamicModule, plugins: readonly PluginModule[]): Promise<void> {
  @Module({})
  class PluginCheckModule {}
  const telemetry = new Telemetry('error');
  const root: DynamicModule = {
    module: PluginCheckModule,
    imports: [envModule, TelemetryModule.forRoot(telemetry), GatewayConfigModule.forRoot(config, environment), GatewayPluginsModule.forRoot(plugins)],
  };
  const context = await NestFactory.createApplicationContext(root, { logger: false, abortOnError: false });
  try {
    context.get(PluginRegistry).compile(config);
  } finally {
    await context.close();
  }
}

function summaryOf(path: string, config: GatewayConfig): string {
  const upstreams = Object.keys(config.upstreams);
  const plugins = [...new Set(config.routes.flatMap((r) => r.plugins.map((p) => p.name)))];
  return (
    `${path}: valid. ${config.routes.length} route(s): ${config.routes.map((r) => r.id).join(', ')}; ` +
    `${upstreams.length} upstream(s): ${upstreams.join(', ')}; plugins in use: ${plugins.length > 0 ? plugins.join(', ') : 'none'}`
  );
}

function linesOf(error: unknown): string[] {
  if (error instanceof ConfigError) return error.lines;
  return [`check failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`];
}
