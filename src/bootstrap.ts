import { ConfigModule } from '@nestjs/config';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { METHODS } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigReloader, type ReloadOutcome, type ReloadTrigger } from './admin/config-reloader.service';
import { AppModule } from './app.module';
import { loadGatewayConfigFile } from './config/config-loader';
import { validateGatewayConfig } from './config/config-validator';
import { ConfigError } from './config/config-error';
import { validateEnvironment, type GatewayEnvironment } from './config/environment';
import type { GatewayConfig } from './config/gateway-config.types';
import { unenforcedFields } from './config/unenforced-fields';
import { loadPluginModules } from './plugins/plugin-loader';
import type { PluginModule } from './plugins/plugins.module';
import { createGatewayServer, handleClientError, handleFrameworkError, type ProxyEntrance } from './gateway-server';
import { ProxyPipeline } from './proxy/proxy-pipeline';
import { drainTraffic } from './lifecycle/graceful-drain';
import { TrafficGate } from './lifecycle/traffic-gate';
import { acceptUpgrades } from './websocket/upgrade-listener';
import { lifecycleLogger } from './logging/gateway-logger';
import { NestLoggerAdapter } from './logging/nest-logger.adapter';
import { Telemetry } from './telemetry/telemetry';

export interface GatewaySettings {
  readonly config: GatewayConfig;
  readonly environment: GatewayEnvironment;
  /** Defaults to a pino logger on stdout at the environment's LOG_LEVEL. */
  readonly telemetry?: Telemetry;
  /** The parsed config file, for start-up warnings; absent when the config was built in code. */
  readonly rawConfig?: unknown;
  readonly envModule?: DynamicModule;
  /** Plugin modules beside the shipped ones. */
  readonly plugins?: readonly PluginModule[];
}

export interface RunningGateway {
  readonly app: NestFastifyApplication;
  readonly telemetry: Telemetry;
  readonly port: number;
  readonly url: string;
  /** Re-reads the config file (docs/operations.md "Reloading the config"). */
  reload(trigger: ReloadTrigger): ReloadOutcome;
  /** Drains (up to GATEWAY_SHUTDOWN_GRACE_MS), then stops every module. */
  close(): Promise<void>;
}

/**
 * The gateway's environment as start-up reads it: the process, then `.env.<NODE_ENV>` and `.env`
 * (@nestjs/config), validated. Throws ConfigError listing every problem.
 */
export async function loadGatewayEnvironment(): Promise<{ environment: GatewayEnvironment; envModule: DynamicModule }> {
  const nodeEnv = process.env.NODE_ENV ?? 'development';
  const envModule = await ConfigModule.forRoot({
    envFilePath: [`.env.${nodeEnv}`, '.env'],
    validate: (env) => {
      validateEnvironment(env);
      return env;
    },
  });
  return { environment: validateEnvironment(process.env), envModule };
}

/**
 * Reads the environment and the config file it names, or validates `inCodeConfig` instead of
 * reading a file (then there is no file to reload). Plugin modules named by GATEWAY_PLUGINS are
 * loaded after `plugins`. Throws ConfigError listing every problem.
 */
export async function loadGatewaySettings(inCodeConfig?: unknown, plugins: readonly PluginModule[] = []): Promise<GatewaySettings> {
  const loaded = await loadGatewayEnvironment();
  const environment = inCodeConfig === undefined ? loaded.environment : { ...loaded.environment, configPath: '' };
  const { config, raw } = inCodeConfig === undefined ? loadGatewayConfigFile(environment.configPath) : { config: validateGatewayConfig(inCodeConfig), raw: inCodeConfig };
  return { config, environment, rawConfig: raw, envModule: loaded.envModule, plugins: [...plugins, ...loadPluginModules(environment.pluginPaths)] };
}

export async function createGatewayApp(settings: GatewaySettings, telemetry: Telemetry, gate: TrafficGate): Promise<NestFastifyApplication> {
  const { config, environment } = settings;
  const proxy: ProxyEntrance = { current: null };
  const adapter = new FastifyAdapter({
    serverFactory: (handler: Parameters<typeof createGatewayServer>[0]) =>
      createGatewayServer(handler, {
        bodyLimitBytes: config.server.bodyLimitBytes,
        observer: telemetry.observer,
        gate,
        managementPrefix: config.server.managementPrefix,
        headersTimeoutMs: config.server.headersTimeoutMs,
        maxHeaderBytes: config.server.maxHeaderBytes,
        bodyIdleTimeoutMs: config.server.bodyIdleTimeoutMs,
        proxy,
      }),
    clientErrorHandler: handleClientError,
    frameworkErrors: handleFrameworkError,
    skipMiddie: true,
    trustProxy: false,
    bodyLimit: config.server.bodyLimitBytes,
    routerOptions: { maxParamLength: 8192 },
  });
  // Every method Node parses (but CONNECT, refused earlier) is routed, and as "bodyless" so
  // Fastify never parses or judges a body on the management endpoints either.
  for (const method of METHODS) {
    if (method !== 'CONNECT') adapter.getInstance().addHttpMethod(method, { hasBody: false, overrideExisting: true });
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({
      config,
      environment,
      telemetry,
      gate,
      plugins: settings.plugins ?? [],
      envModule: settings.envModule ?? (await ConfigModule.forRoot({ ignoreEnvFile: true })),
    }),
    adapter,
    { logger: new NestLoggerAdapter(telemetry.logger), bodyParser: false, abortOnError: false },
  );
  acceptUpgrades(app.getHttpServer());
  proxy.current = app.get(ProxyPipeline);
  const pending = settings.rawConfig === undefined ? [] : unenforcedFields(settings.rawConfig);
  if (pending.length > 0) {
    telemetry.logger.warn({ context: 'Config', msg: 'config fields accepted but not enforced yet', fields: pending });
  }
  return app;
}

export async function startGateway(settings: GatewaySettings): Promise<RunningGateway> {
  const telemetry = settings.telemetry ?? new Telemetry(settings.environment.logLevel);
  const gate = new TrafficGate();
  const app = await createGatewayApp(settings, telemetry, gate);
  try {
    await app.listen({ port: settings.environment.port, host: settings.environment.host });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw listenProblem(error, settings.environment) ?? error;
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  const host = settings.environment.host === '0.0.0.0' ? '127.0.0.1' : settings.environment.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  lifecycleLogger(telemetry.logger).info({ msg: 'gateway listening', url, port, host: settings.environment.host });
  await telemetry.flush();
  return {
    app,
    telemetry,
    port,
    url,
    reload: (trigger) => app.get(ConfigReloader).reload(trigger),
    close: async () => {
      await drainTraffic(app.getHttpServer(), gate, settings.environment.shutdownGraceMs, telemetry.logger);
      await app.close();
    },
  };
}

/** A port or address the gateway cannot listen on, as one line naming the variable to change; null for other errors. */
function listenProblem(error: unknown, { host, port }: GatewayEnvironment): ConfigError | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const portVariable = process.env.GATEWAY_PORT?.trim() ? 'GATEWAY_PORT' : process.env.PORT?.trim() ? 'PORT' : 'GATEWAY_PORT';
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE') return new ConfigError('env', [`${portVariable}: ${where} is already in use by another process (EADDRINUSE); stop it or choose another port`]);
  if (code === 'EACCES') return new ConfigError('env', [`${portVariable}: not allowed to listen on ${where} (EACCES); ports below 1024 need privileges`]);
  if (code === 'EADDRNOTAVAIL') return new ConfigError('env', [`GATEWAY_HOST: ${host} is not an address of this machine (EADDRNOTAVAIL)`]);
  return null;
}
