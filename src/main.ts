import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadGatewaySettings, startGateway, type RunningGateway } from './bootstrap';
import { ConfigError } from './config/config-error';
import { LIFECYCLE_CONTEXT } from './logging/json-logger';

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
    new Logger(LIFECYCLE_CONTEXT).log({ msg: 'shutting down', signal });
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
