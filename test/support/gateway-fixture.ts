import 'reflect-metadata';
import type { DestinationStream } from 'pino';
import { startGateway, type RunningGateway } from '../../src/bootstrap';
import { validateGatewayConfig } from '../../src/config/config-validator';
import type { GatewayEnvironment } from '../../src/config/environment';
import { Telemetry } from '../../src/telemetry/telemetry';

export const TEST_ENVIRONMENT: GatewayEnvironment = Object.freeze({
  configPath: '(in test)',
  host: '127.0.0.1',
  port: 0,
  adminToken: null,
  redisUrl: null,
  logLevel: 'error',
  shutdownGraceMs: 1000,
});

/** Where the gateway's log lines go in a test: nowhere, unless the test collects them. */
const DISCARD: DestinationStream = { write: () => undefined };

/** Collects every JSON log line the gateway writes, parsed. */
export class LogCollector implements DestinationStream {
  readonly lines: Array<Record<string, unknown>> = [];

  write(line: string): void {
    for (const text of line.split('\n')) if (text.trim() !== '') this.lines.push(JSON.parse(text) as Record<string, unknown>);
  }
}

/**
 * Starts the real gateway in this process on 127.0.0.1:0 with a config object written as it
 * would be in the YAML file (validated the same way).
 */
export async function startTestGateway(
  rawConfig: unknown,
  environment: Partial<GatewayEnvironment> = {},
  logDestination: DestinationStream = DISCARD,
): Promise<RunningGateway> {
  const env = { ...TEST_ENVIRONMENT, ...environment };
  return startGateway({
    config: validateGatewayConfig(rawConfig),
    environment: env,
    telemetry: new Telemetry(env.logLevel, logDestination),
  });
}
