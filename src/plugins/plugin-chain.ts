import { plainToInstance } from 'class-transformer';
import { validateSync } from '../config/class-validator-parts';
import { ConfigError } from '../config/config-error';
import type { GatewayConfig, PluginSettings } from '../config/gateway-config.types';
import { flattenValidationErrors } from '../config/validation-messages';
import type { GatewayPlugin } from './gateway-plugin';

/** A plugin of a route with the state `configure` made from the route's config. */
export interface BoundPlugin {
  readonly plugin: GatewayPlugin<object, unknown>;
  readonly state: unknown;
}

/** Looks a loaded plugin up by name. */
export type PluginLookup = (name: string) => GatewayPlugin<object, unknown> | undefined;

/**
 * Every route's plugins of `config`, validated and configured, by route id. Problems are
 * collected for the whole config and thrown together as one ConfigError, each line naming its
 * field (`routes[3].plugins[0].config.header: ...`); plugins inherited from `defaults.plugins`
 * are reported there, once.
 */
export function compilePluginChains(config: GatewayConfig, lookup: PluginLookup, loadedNames: readonly string[]): Map<string, readonly BoundPlugin[]> {
  const problems = new Set<string>();
  const compile = (entries: readonly PluginSettings[], route: string, field: string): BoundPlugin[] =>
    entries.flatMap((entry, j) => {
      const bound = bind(entry, route, `${field}[${j}]`, lookup, loadedNames);
      if (Array.isArray(bound)) {
        for (const problem of bound) problems.add(problem);
        return [];
      }
      return [bound];
    });
  // Checked on their own, so a bad default stops start-up even while every route has plugins of its own.
  const defaults = compile(config.defaults.plugins, '(defaults)', 'defaults.plugins');
  const chains = new Map<string, readonly BoundPlugin[]>();
  config.routes.forEach((route, index) => {
    const inherited = route.plugins === config.defaults.plugins;
    const field = inherited ? 'defaults.plugins' : `routes[${index}].plugins`;
    // A bad default was reported once, above; each inheriting route gets its own configured state.
    chains.set(route.id, inherited && defaults.length < route.plugins.length ? [] : compile(route.plugins, route.id, field));
  });
  if (problems.size > 0) throw new ConfigError('config', [...problems]);
  return chains;
}

/** The plugin bound to its configured state, or the problems, one line per field. */
function bind(entry: PluginSettings, route: string, field: string, lookup: PluginLookup, loadedNames: readonly string[]): BoundPlugin | string[] {
  const plugin = lookup(entry.name);
  if (plugin === undefined) {
    return [`${field}.name: no plugin "${entry.name}" is loaded (loaded: ${loadedNames.join(', ') || 'none'}; see GATEWAY_PLUGINS)`];
  }
  let config: object = entry.config;
  if (plugin.configClass) {
    config = plainToInstance(plugin.configClass, entry.config);
    const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: true } });
    if (errors.length > 0) return flattenValidationErrors(errors, `${field}.config`);
  } else if (Object.keys(entry.config).length > 0) {
    return [`${field}.config: plugin "${entry.name}" takes no config`];
  }
  try {
    return { plugin, state: plugin.configure ? plugin.configure(config, route) : config };
  } catch (error) {
    return [`${field}.config${fieldOf(error instanceof Error ? error.message : String(error))}`];
  }
}

/** `configure` names the field it refuses by starting its message with it (`origins: ...`): it joins the path. */
function fieldOf(message: string): string {
  const named = /^([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*): (.+)$/s.exec(message);
  return named ? `.${named[1]}: ${named[2]}` : `: ${message}`;
}
