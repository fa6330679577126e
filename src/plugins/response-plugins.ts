import { GatewayError } from '../errors/gateway-error';
import type { PluginResponseHead } from './plugin-call';
import type { BoundPlugin } from './plugin-chain';

/**
 * The route's `onResponse` hooks, in order, on the head before it is written. A hook that
 * throws something other than a GatewayError becomes 500 plugin_error (nothing has been
 * written to the client yet); the exception filter logs it with the request's ids.
 */
export function runResponsePlugins(chain: readonly BoundPlugin[], head: PluginResponseHead): void {
  for (const { plugin, state } of chain) {
    if (!plugin.onResponse) continue;
    try {
      plugin.onResponse(head, state);
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw new GatewayError('plugin_error', `plugin "${plugin.name}" failed in onResponse`, {}, null, { cause: error });
    }
  }
}
