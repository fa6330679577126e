import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import type { DestinationStream } from 'pino';
import { startGateway, type RunningGateway } from '../../src/bootstrap';
import { validateGatewayConfig } from '../../src/config/config-validator';
import type { GatewayEnvironment } from '../../src/config/environment';
import { Telemetry } from '../../src/telemetry/telemetry';
import { assertSchemaAccepts } from './config-schema';

export const TEST_ENVIRONMENT: GatewayEnvironment = Object.freeze({
  configPath: '(in test)',
  host: '127.0.0.1',
  port: 0,
  adminToken: null,
  redisUrl: null,
  logLevel: 'error',
  shutdownGraceMs: 1000,
  pluginPaths: [],
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

/** One JSON log line of the gateway, parsed. */
export type LogLine = Record<string, unknown>;

/** A LogCollector that says when a line arrives, so tests await lines instead of sleeping. */
export class NotifyingLogCollector extends LogCollector {
  private readonly events = new EventEmitter();

  constructor() {
    super();
    this.events.setMaxListeners(0);
  }

  override write(line: string): void {
    super.write(line);
    this.events.emit('line');
  }

  /** Resolves with the lines matching `predicate` once there are at least `count`; rejects after timeoutMs. */
  waitForLines(predicate: (line: LogLine) => boolean, count: number, what: string, timeoutMs = 10_000): Promise<LogLine[]> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.lines.filter(predicate);
        if (found.length < count) return false;
        clearTimeout(timer);
        this.events.off('line', onLine);
        resolve(found);
        return true;
      };
      const onLine = (): void => void check();
      const timer = setTimeout(() => {
        this.events.off('line', onLine);
        reject(new Error(`timed out waiting for ${count} log line(s): ${what}; have ${this.lines.filter(predicate).length}`));
      }, timeoutMs);
      this.events.on('line', onLine);
      check();
    });
  }

  accessLineOf(requestId: string): Promise<LogLine> {
    return this.waitForLines((l) => l.msg === 'request' && l.requestId === requestId, 1, `access line of ${requestId}`).then(
      (found) => found[0],
    );
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
  const config = validateGatewayConfig(rawConfig);
  assertSchemaAccepts(rawConfig, 'startTestGateway');
  return startGateway({
    config,
    environment: env,
    telemetry: new Telemetry(env.logLevel, logDestination),
  });
}
