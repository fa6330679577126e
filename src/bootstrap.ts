import { ConfigModule } from '@nestjs/config';
import { Logger, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { METHODS } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module';
import { loadGatewayConfigFile } from './config/config-loader';
import { validateEnvironment, type GatewayEnvironment } from './config/environment';
import type { GatewayConfig } from './config/gateway-config.types';
import { unenforcedFields } from './config/unenforced-fields';
import { createGatewayServer, handleClientError, handleFrameworkError } from './gateway-server';
import { JsonLogger, LIFECYCLE_CONTEXT } from './logging/json-logger';

export interface GatewaySettings {
  readonly config: GatewayConfig;
  readonly environment: GatewayEnvironment;
  /** The parsed config file, for start-up warnings; absent when the config was built in code. */
  readonly rawConfig?: unknown;
  readonly envModule?: DynamicModule;
}

export interface RunningGateway {
  readonly app: NestFastifyApplication;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Reads the environment (process, then `.env.<NODE_ENV>`, then `.env`) and the config file it
 * names. Throws ConfigError listing every problem.
 */
export async function loadGatewaySettings(): Promise<GatewaySettings> {
  const nodeEnv = process.env.NODE_ENV ?? 'development';
  const envModule = await ConfigModule.forRoot({
    envFilePath: [`.env.${nodeEnv}`, '.env'],
    validate: (env) => {
      validateEnvironment(env);
      return env;
    },
  });
  const environment = validateEnvironment(process.env);
  const { config, raw } = loadGatewayConfigFile(environment.configPath);
  return { config, environment, rawConfig: raw, envModule };
}

export async function createGatewayApp(settings: GatewaySettings): Promise<NestFastifyApplication> {
  const { config, environment } = settings;
  const logger = new JsonLogger(environment.logLevel);
  const adapter = new FastifyAdapter({
    serverFactory: (handler: Parameters<typeof createGatewayServer>[0]) => createGatewayServer(handler, config.server.bodyLimitBytes),
    clientErrorHandler: handleClientError,
    frameworkErrors: handleFrameworkError,
    skipMiddie: true,
    trustProxy: false,
    bodyLimit: config.server.bodyLimitBytes,
    routerOptions: { maxParamLength: 8192 },
  });
  // Every method Node parses (but CONNECT, refused earlier) reaches the catch-all, and as
  // "bodyless" so Fastify never parses or judges a body: bodies are the upstream's business
  // and stream through untouched.
  for (const method of METHODS) {
    if (method !== 'CONNECT') adapter.getInstance().addHttpMethod(method, { hasBody: false, overrideExisting: true });
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({
      config,
      environment,
      envModule: settings.envModule ?? (await ConfigModule.forRoot({ ignoreEnvFile: true })),
    }),
    adapter,
    { logger, bodyParser: false, abortOnError: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  fastify.decorateRequest('gatewayRoute', null);
  fastify.decorateRequest('gatewayUpstreamPath', '');
  fastify.decorateRequest('gatewayCancellation', null);
  const pending = settings.rawConfig === undefined ? [] : unenforcedFields(settings.rawConfig);
  if (pending.length > 0) {
    logger.warn({ msg: 'config fields accepted but not enforced yet', fields: pending }, 'Config');
  }
  return app;
}

export async function startGateway(settings: GatewaySettings): Promise<RunningGateway> {
  const app = await createGatewayApp(settings);
  await app.listen({ port: settings.environment.port, host: settings.environment.host });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const host = settings.environment.host === '0.0.0.0' ? '127.0.0.1' : settings.environment.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  new Logger(LIFECYCLE_CONTEXT).log({ msg: 'gateway listening', url, port, host: settings.environment.host });
  return { app, port, url, close: () => app.close() };
}
