import type { DynamicModule } from '@nestjs/common';
import { loadGatewaySettings, startGateway, type RunningGateway } from './bootstrap';
import { ConfigError } from './config/config-error';
import { checkGatewayConfig } from './config-check';
import type { PluginModule } from './plugins/plugins.module';
import { GatewayModule } from './gateway.module';
import { lifecycleLogger } from './logging/gateway-logger';

/**
 * Runs a gateway as a process (docs/operations.md "Running in production"): reads the environment and the
 * config, loads the plugins, starts, and handles signals. The handlers go in before anything
 * starts: a supervisor (or a test) that sends SIGTERM the moment it reads "gateway listening",
 * or while start-up is still under way, gets a clean stop and exit 0, never Node's default
 * death by signal. SIGTERM and SIGINT drain (docs/operations.md "Shutdown"); a second one exits at once.
 * SIGHUP reloads the config. A bad environment or config exits 1, one line per problem.
 */
export async function runGateway(definition: DynamicModule = GatewayModule.forRoot(), argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const options = GatewayModule.optionsOf(definition);
  if (argv[0] === '--check') return exitWithCheck(argv[1], options.plugins ?? []);
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
      // One line, like every other start-up failure; LOG_LEVEL=debug adds the stack.
      const detail = error instanceof Error ? (process.env.LOG_LEVEL === 'debug' ? (error.stack ?? error.message) : error.message.split('\n')[0]) : String(error);
      process.stderr.write(`start-up failed: ${detail}\n`);
    }
    process.exit(1);
  }
  if (stopSignal !== null) stop(gateway, stopSignal);
}

/** `--check [file]`: validates as start-up would, prints the problems (stderr) or the summary (stdout), exits 1 or 0. */
async function exitWithCheck(file: string | undefined, plugins: readonly PluginModule[]): Promise<void> {
  const { ok, lines } = await checkGatewayConfig(file, plugins);
  for (const line of lines) (ok ? process.stdout : process.stderr).write(`${line}\n`);
  process.exit(ok ? 0 : 1);
}
