import { DynamicModule, Global, Module, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ApiKeyPluginModule } from './api-key/api-key.module';
import { CorsPluginModule } from './cors/cors.module';
import { PluginGuard } from './plugin.guard';
import { PLUGIN_MODULES, PluginRegistry } from './plugin-registry.service';

/** Modules whose plugins every gateway has. */
const SHIPPED: ReadonlyArray<Type<unknown>> = [ApiKeyPluginModule, CorsPluginModule];

/** Plugin modules as GatewayModule.forRoot and GATEWAY_PLUGINS give them. */
export type PluginModule = Type<unknown> | DynamicModule;

/**
 * The shipped plugins and the team's own: imports their modules, finds the plugins among their
 * providers (PluginRegistry) and runs them (PluginGuard). Global, so the route table binds each
 * route to its plugins without importing this module.
 */
@Global()
@Module({})
export class GatewayPluginsModule {
  static forRoot(modules: readonly PluginModule[]): DynamicModule {
    const all = [...SHIPPED, ...modules];
    return {
      module: GatewayPluginsModule,
      imports: [DiscoveryModule, ...all],
      providers: [{ provide: PLUGIN_MODULES, useValue: all.map(moduleClass) }, PluginRegistry, PluginGuard],
      exports: [PluginRegistry, PluginGuard],
    };
  }
}

function moduleClass(module: PluginModule): Type<unknown> {
  return 'module' in module ? module.module : module;
}
