import { Module, type DynamicModule } from '@nestjs/common';
import type { PluginModule } from './plugins/plugins.module';

export interface GatewayModuleOptions {
  /** Nest modules that provide plugins (docs/plugins.md "Write your own plugin"), beside the shipped api-key and cors. */
  readonly plugins?: readonly PluginModule[];
  /**
   * The config as an object written like the YAML file, instead of reading GATEWAY_CONFIG
   * (validated the same way; there is then no file to reload).
   */
  readonly config?: unknown;
}

const OPTIONS = new WeakMap<DynamicModule, GatewayModuleOptions>();

/**
 * The gateway as a Nest module for a team's own entry point:
 * `runGateway(GatewayModule.forRoot({ plugins: [TenantPluginModule] }))`. The stock `main.ts`
 * is one such entry point, with no plugins of its own. It imports the plugin modules; the
 * rest of the gateway is assembled by runGateway once the environment and config are read.
 */
@Module({})
export class GatewayModule {
  static forRoot(options: GatewayModuleOptions = {}): DynamicModule {
    const definition: DynamicModule = { module: GatewayModule, imports: [...(options.plugins ?? [])] };
    OPTIONS.set(definition, options);
    return definition;
  }

  /** What forRoot was given. */
  static optionsOf(definition: DynamicModule): GatewayModuleOptions {
    const options = OPTIONS.get(definition);
    if (options === undefined) throw new Error('not a module made by GatewayModule.forRoot()');
    return options;
  }
}
