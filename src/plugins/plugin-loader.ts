import type { Type } from '@nestjs/common';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { ConfigError } from '../config/config-error';
import type { PluginModule } from './plugins.module';

/** Nest's @Module() records these; a class with any of them is a module. */
const MODULE_METADATA = ['imports', 'providers', 'controllers', 'exports'];

/**
 * The Nest modules exported by each compiled file GATEWAY_PLUGINS names (docs/plugins.md "Write your own
 * plugin"), for teams that run the stock build or image. A file that cannot be loaded, or
 * exports no module, stops start-up naming it.
 */
export function loadPluginModules(paths: readonly string[], cwd = process.cwd()): PluginModule[] {
  const load = createRequire(resolve(cwd, 'plugins.js'));
  const problems: string[] = [];
  const modules: PluginModule[] = [];
  for (const path of paths) {
    let exported: unknown;
    try {
      exported = load(resolve(cwd, path));
    } catch (error) {
      problems.push(`GATEWAY_PLUGINS: cannot load ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      continue;
    }
    const found = Object.values(typeof exported === 'object' && exported !== null ? exported : {}).filter(isNestModule);
    if (found.length === 0) problems.push(`GATEWAY_PLUGINS: ${path} exports no Nest module (a class with @Module())`);
    modules.push(...found);
  }
  if (problems.length > 0) throw new ConfigError('env', problems);
  return modules;
}

function isNestModule(value: unknown): value is Type<unknown> {
  return typeof value === 'function' && MODULE_METADATA.some((key) => Reflect.hasOwnMetadata(key, value));
}
