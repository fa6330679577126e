import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import axios from 'axios';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { GATEWAY_CONFIG } from '../config/config.tokens';
import type { GatewayConfig, UpstreamSettings } from '../config/gateway-config.types';
import type { GatewayLogger } from '../logging/gateway-logger';
import { GATEWAY_LOGGER } from '../telemetry/telemetry.tokens';
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
  private readonly clients = new Map<string, UpstreamClient>();
  private readonly httpServices = new Map<string, HttpService>();

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(GATEWAY_LOGGER) logger: GatewayLogger) {
    for (const settings of Object.values(config.upstreams)) {
      const upstream = settings.name;
      // One line per health transition: target, from, to, reason.
      const logTransition = (target: UpstreamTarget, t: HealthTransition): void => {
        const line = { context: 'Health', msg: 'target health changed', upstream, target: target.url, from: t.from, to: t.to, reason: t.reason };
        if (t.to === 'unhealthy') logger.warn(line);
        else logger.info(line);
      };
      this.clients.set(upstream, new UndiciUpstreamClient(settings, logTransition));
    }
  }

  client(name: string): UpstreamClient {
    const client = this.clients.get(name);
    if (!client) throw new Error(`no upstream named "${name}"`);
    return client;
  }

  get names(): string[] {
    return [...this.clients.keys()];
  }

  /** The control-plane HTTP client of an upstream, created on first use. Base URL: its first target. */
  httpService(name: string): HttpService {
    let service = this.httpServices.get(name);
    if (!service) {
      service = createControlPlaneHttpService(this.client(name).settings);
      this.httpServices.set(name, service);
    }
    return service;
  }

  async onApplicationShutdown(): Promise<void> {
    for (const service of this.httpServices.values()) {
      const { httpAgent, httpsAgent } = service.axiosRef.defaults;
      (httpAgent as HttpAgent | undefined)?.destroy();
      (httpsAgent as HttpsAgent | undefined)?.destroy();
    }
    await Promise.all([...this.clients.values()].map((client) => client.close()));
  }
}

function createControlPlaneHttpService(settings: UpstreamSettings): HttpService {
  const agentOptions = {
    keepAlive: true,
    maxSockets: settings.pool.maxSockets,
    maxFreeSockets: Math.max(1, settings.pool.maxIdleSockets),
    timeout: settings.pool.idleTimeoutMs,
  };
  return new HttpService(
    axios.create({
      baseURL: settings.targets[0],
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      timeout: settings.connectTimeoutMs + 30_000,
      maxRedirects: 0,
      decompress: false,
      validateStatus: () => true,
    }),
  );
}
