import type { DynamicModule } from '@nestjs/common';
import { loadGatewaySettings, startGateway, type RunningGateway } from './bootstrap';
import { ConfigError } from './config/config-error';
import { GatewayModule } from './gateway.module';
import { lifecycleLogger } from './logging/gateway-logger';

/**
 * Runs a gateway as a process (README "Running in production"): reads the environment and the
 * config, loads the plugins, starts, and handles signals. The handlers go in before anything
 * starts: a supervisor (or a test) that sends SIGTERM the moment it reads "gateway listening",
 * or while start-up is still under way, gets a clean stop and exit 0, never Node's default
 * death by signal. SIGTERM and SIGINT drain (README "Shutdown"); a second one exits at once.
 * SIGHUP reloads the config. A bad environment or config exits 1, one line per problem.
 */
export async function runGateway(definition: DynamicModule = GatewayModule.forRoot()): Promise<void> {
  const options = GatewayModule.optionsOf(definition);
  let gateway: RunningGateway | null = null;
  let stopSignal: string | null = null;
  const stop = (running: RunningGateway, signal: string): void => {
    lifecycleLogger(running.telemetry.logger).info({ msg: 'shutting down', signal });
    const exit = (code: number): void => {
      void running.telemetry.flush().then(() => process.exit(code));
    };
    running.close().then(
      () => exit(0),
      () => exit(1),
    );
  };
  const onSignal = (signal: string): void => {
    if (stopSignal !== null) {
      // An operator who asks twice does not want to wait for the drain.
      process.stderr.write(`${signal} again: exiting now, without waiting for requests in flight\n`);
      process.exit(1);
    }
    stopSignal = signal;
    // During start-up there is nothing to stop yet: it stops as soon as it has started.
    if (gateway !== null) stop(gateway, signal);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  // Before start-up has finished there is nothing to reload: the file is being read anyway.
  process.on('SIGHUP', () => {
    if (gateway !== null && stopSignal === null) gateway.reload('signal');
  });
  try {
    gateway = await startGateway(await loadGatewaySettings(options.config, options.plugins));
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.lines) process.stderr.write(`${line}\n`);
    } else {
      process.stderr.write(`start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  }
  if (stopSignal !== null) stop(gateway, stopSignal);
}
