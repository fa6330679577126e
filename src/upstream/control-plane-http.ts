import type { HttpService } from '@nestjs/axios';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { UpstreamSettings } from '../config/gateway-config.types';

/**
 * The control-plane HTTP client of an upstream (active health checks): @nestjs/axios's
 * HttpService over keep-alive agents with the upstream's pool settings, base URL its first target.
 *
 * axios and @nestjs/axios are loaded by the first call, not at start-up: together they hold about
 * 3.6 MiB of heap, which a gateway without active health checks never uses and every full garbage
 * collection would mark again (docs/performance.md, "Streaming and the garbage collector").
 */
export async function createControlPlaneHttpService(settings: UpstreamSettings): Promise<HttpService> {
  const [{ HttpService }, { default: axios }] = await Promise.all([import('@nestjs/axios'), import('axios')]);
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

/** Closes the sockets of a control-plane client that is no longer used. */
export function closeControlPlaneHttpService(service: HttpService): void {
  const { httpAgent, httpsAgent } = service.axiosRef.defaults;
  (httpAgent as HttpAgent | undefined)?.destroy();
  (httpsAgent as HttpsAgent | undefined)?.destroy();
}
