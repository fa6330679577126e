/*
 * The package's public entry (package.json `main`), the one barrel in src/: what a team needs
 * to run the gateway from its own entry point and to write plugins. Everything else is internal.
 */
export { GatewayModule, type GatewayModuleOptions } from './gateway.module';
export { runGateway } from './run-gateway';
export { GatewayPluginBase, type GatewayPlugin, type PluginCompletion, type PluginConfigClass, type PluginRequest, type PluginResponse } from './plugins/gateway-plugin';
export type { PluginModule } from './plugins/plugins.module';
export { GatewayError } from './errors/gateway-error';
export type { GatewayErrorCode } from './errors/error-catalogue';
export type { RequestContext } from './trace/request-context';
