import 'reflect-metadata';
import { loadGatewaySettings, startGateway, type RunningGateway } from './bootstrap';
import { ConfigError } from './config/config-error';
import { lifecycleLogger } from './logging/gateway-logger';

async function main(): Promise<void> {
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(await loadGatewaySettings());
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.lines) process.stderr.write(`${line}\n`);
    } else {
      process.stderr.write(`start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  }
  const stop = (signal: string): void => {
    const lifecycle = lifecycleLogger(gateway.telemetry.logger);
    lifecycle.info({ msg: 'shutting down', signal });
    const exit = (code: number): void => {
      void gateway.telemetry.flush().then(() => process.exit(code));
    };
    gateway.close().then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
