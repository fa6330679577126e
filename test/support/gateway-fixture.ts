import 'reflect-metadata';
import { startGateway, type RunningGateway } from '../../src/bootstrap';
import { validateGatewayConfig } from '../../src/config/config-validator';
import type { GatewayEnvironment } from '../../src/config/environment';

export const TEST_ENVIRONMENT: GatewayEnvironment = Object.freeze({
  configPath: '(in test)',
  host: '127.0.0.1',
  port: 0,
  adminToken: null,
  redisUrl: null,
  logLevel: 'error',
  shutdownGraceMs: 1000,
});

/**
 * Starts the real gateway in this process on 127.0.0.1:0 with a config object written as it
 * would be in the YAML file (validated the same way).
 */
export async function startTestGateway(rawConfig: unknown, environment: Partial<GatewayEnvironment> = {}): Promise<RunningGateway> {
  return startGateway({ config: validateGatewayConfig(rawConfig), environment: { ...TEST_ENVIRONMENT, ...environment } });
}
