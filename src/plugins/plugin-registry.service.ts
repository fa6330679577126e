import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { GatewayConfig } from '../config/gateway-config.types';
import { isGatewayPlugin, type GatewayPlugin } from './gateway-plugin';
import { compilePluginChains, type BoundPlugin } from './plugin-chain';

/** The Nest modules plugins come from: the shipped ones, GatewayModule.forRoot's and GATEWAY_PLUGINS'. */
export const PLUGIN_MODULES = Symbol('PLUGIN_MODULES');

/**
 * The loaded plugins by name, found among the providers of the plugin modules (so a team adds
 * one by adding a module, never by editing this file). Read after every provider exists.
 */
@Injectable()
export class PluginRegistry {
  private byName: Map<string, GatewayPlugin<object, unknown>> | null = null;

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(PLUGIN_MODULES) private readonly modules: ReadonlyArray<new (...args: never[]) => unknown>,
  ) {}

  get names(): string[] {
    return [...this.plugins().keys()];
  }

  get(name: string): GatewayPlugin<object, unknown> | undefined {
    return this.plugins().get(name);
  }

  /** Every route's plugins, validated and configured; throws ConfigError naming each bad field. */
  compile(config: GatewayConfig): Map<string, readonly BoundPlugin[]> {
    return compilePluginChains(config, (name) => this.get(name), this.names);
  }

  private plugins(): Map<string, GatewayPlugin<object, unknown>> {
    if (this.byName !== null) return this.byName;
    const found = new Map<string, GatewayPlugin<object, unknown>>();
    for (const wrapper of this.discovery.getProviders({ include: [...this.modules] })) {
      const instance: unknown = wrapper.instance;
      if (!isGatewayPlugin(instance)) continue;
      const other = found.get(instance.name);
      if (other !== undefined && other !== instance) throw new Error(`two plugins are named "${instance.name}"`);
      found.set(instance.name, instance);
    }
    this.byName = found;
    return found;
  }
}
