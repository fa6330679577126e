import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import type { DestinationStream } from 'pino';
import { startGateway, type RunningGateway } from '../../../src/bootstrap';
import { ConfigError } from '../../../src/config/config-error';
import { validateGatewayConfig } from '../../../src/config/config-validator';
import type { GatewayEnvironment } from '../../../src/config/environment';
import type { PluginModule } from '../../../src/plugins/plugins.module';
import { Telemetry } from '../../../src/telemetry/telemetry';
import { assertSchemaAccepts } from '../config-schema';
import { TEST_ENVIRONMENT } from '../gateway-fixture';
import { call, type TestResponse } from '../http';
import { TestPluginsModule } from './test-plugins.module';

export const ADMIN_TOKEN = 'plugin-tests-admin-token-0123456789';

const DISCARD: DestinationStream = { write: () => undefined };

/** The gateway in this process with the test plugin modules beside the shipped ones. */
export async function startPluginGateway(
  rawConfig: unknown,
  environment: Partial<GatewayEnvironment> = {},
  logs: DestinationStream = DISCARD,
  plugins: readonly PluginModule[] = [TestPluginsModule],
): Promise<RunningGateway> {
  const env = { ...TEST_ENVIRONMENT, ...environment };
  const gateway = await startGateway({ config: validateGatewayConfig(rawConfig), environment: env, telemetry: new Telemetry(env.logLevel, logs), plugins });
  try {
    assertSchemaAccepts(rawConfig, 'startPluginGateway');
  } catch (error) {
    await gateway.close();
    throw error;
  }
  return gateway;
}

/** Starts a gateway that must not start: resolves with the ConfigError's lines. */
export async function startFailure(rawConfig: unknown, plugins: readonly PluginModule[] = [TestPluginsModule]): Promise<string[]> {
  let started: RunningGateway | null = null;
  try {
    started = await startPluginGateway(rawConfig, {}, DISCARD, plugins);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).lines;
  }
  await started.close();
  throw new Error('the gateway started with a config that should have been refused');
}

export interface RouteFigures {
  inFlight: number;
  permitsInUse: number;
  queued: number;
  requests: number;
}

/** The admin API of a gateway started with ADMIN_TOKEN. */
export function adminOf(gateway: RunningGateway): { stats(): Promise<Record<string, RouteFigures>>; reload(): Promise<TestResponse> } {
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
  return {
    stats: async () => {
      const res = await call(`${gateway.url}/_gateway/admin/stats`, { headers });
      expect(res.status).toBe(200);
      return res.json<{ routes: Record<string, RouteFigures> }>().routes;
    },
    reload: () => call(`${gateway.url}/_gateway/admin/reload`, { method: 'POST', headers }),
  };
}

/** Writes a file as an editor does: a new file renamed over the old one. */
export async function saveFile(path: string, content: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  await rename(`${path}.tmp`, path);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** One header's value as a single string (joined when repeated). */
export function headerOf(res: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A traceparent with a fixed trace id, so responses, logs and hooks can be matched to it. */
export function traceparentFor(n: number): { traceId: string; header: string } {
  const traceId = `4bf92f3577b34da6a3ce929d0e0e${n.toString(16).padStart(4, '0')}`;
  return { traceId, header: `00-${traceId}-00f067aa0ba902b7-01` };
}
