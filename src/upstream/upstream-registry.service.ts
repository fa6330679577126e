import type { HttpService } from '@nestjs/axios';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import { sameSettings } from '../config/config-diff';
import type { GatewayConfig, UpstreamSettings } from '../config/gateway-config.types';
import type { GatewayLogger } from '../logging/gateway-logger';
import { GATEWAY_LOGGER } from '../telemetry/telemetry.tokens';
import { closeControlPlaneHttpService, createControlPlaneHttpService } from './control-plane-http';
import type { HealthTransition } from './target-health';
import { UndiciUpstreamClient } from './undici-upstream-client';
import type { UpstreamTarget } from './upstream-target';
import type { UpstreamClient } from './upstream-client';

/**
 * One data-plane client and one control-plane HttpService per upstream, keyed by name.
 * The HttpService (axios over a keep-alive agent with the upstream's pool settings) is for
 * health checks and plugins; proxied traffic goes through the undici client.
 */
@Injectable()
export class UpstreamRegistry implements OnApplicationShutdown {
  private clients = new Map<string, UpstreamClient>();
  private readonly httpServices = new Map<string, Promise<HttpService>>();
  private readonly changeListeners: Array<() => void> = [];
  /** Replaced or removed clients still finishing requests. */
  private readonly retiring = new Set<UpstreamClient>();

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_LOGGER) private readonly logger: GatewayLogger,
  ) {
    this.apply(config.upstreams);
  }

  /**
   * Makes `upstreams` the live set (a reload): clients whose settings did not change are kept,
   * with their sockets and target health; the others are made anew, and the replaced or removed
   * ones close after their last request.
   */
  apply(upstreams: Readonly<Record<string, UpstreamSettings>>): void {
    const next = new Map<string, UpstreamClient>();
    for (const settings of Object.values(upstreams)) {
      const current = this.clients.get(settings.name);
      next.set(settings.name, current && sameSettings(current.settings, settings) ? current : this.create(settings));
    }
    const retired = [...this.clients].filter(([name, client]) => next.get(name) !== client);
    this.clients = next;
    for (const [name, client] of retired) {
      this.dropHttpService(name);
      this.retiring.add(client);
      client
        .retire()
        .catch((error: unknown) => this.logger.warn({ context: 'Upstream', msg: 'closing a retired upstream failed', upstream: name, error: String(error) }))
        .finally(() => this.retiring.delete(client));
    }
    for (const listener of this.changeListeners) listener();
  }

  /** Hears every apply (health checks follow the live clients). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  client(name: string): UpstreamClient {
    const client = this.clients.get(name);
    if (!client) throw new Error(`no upstream named "${name}"`);
    return client;
  }

  /** Clients a reload replaced that still have requests to finish. */
  get retiringCount(): number {
    return this.retiring.size;
  }

  get names(): string[] {
    return [...this.clients.keys()];
  }

  /** The control-plane HTTP client of an upstream, created on first use (control-plane-http.ts). */
  httpService(name: string): Promise<HttpService> {
    let service = this.httpServices.get(name);
    if (!service) {
      service = createControlPlaneHttpService(this.client(name).settings);
      this.httpServices.set(name, service);
    }
    return service;
  }

  async onApplicationShutdown(): Promise<void> {
    for (const name of [...this.httpServices.keys()]) this.dropHttpService(name);
    await Promise.all([...this.clients.values(), ...this.retiring].map((client) => client.close()));
  }

  private create(settings: UpstreamSettings): UpstreamClient {
    const upstream = settings.name;
    // One line per health transition: target, from, to, reason.
    const logTransition = (target: UpstreamTarget, t: HealthTransition): void => {
      const line = { context: 'Health', msg: 'target health changed', upstream, target: target.url, from: t.from, to: t.to, reason: t.reason };
      if (t.to === 'unhealthy') this.logger.warn(line);
      else this.logger.info(line);
    };
    return new UndiciUpstreamClient(settings, logTransition);
  }

  private dropHttpService(name: string): void {
    const service = this.httpServices.get(name);
    if (!service) return;
    this.httpServices.delete(name);
    service.then(closeControlPlaneHttpService, () => undefined);
  }
}
