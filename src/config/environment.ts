import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from './class-validator-parts';
import { ConfigError } from './config-error';
import { flattenValidationErrors } from './validation-messages';

/** The config file read when GATEWAY_CONFIG is unset, relative to the working directory. */
export const DEFAULT_CONFIG_PATH = 'config/gateway.yaml';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** docs/configuration.md "Environment variables". Read by @nestjs/config from the process, then `.env.<NODE_ENV>`, then `.env`. */
export class EnvironmentSchema {
  @IsOptional() @IsString() @MinLength(1) GATEWAY_CONFIG?: string;
  @IsOptional() @IsString() @MinLength(1) GATEWAY_HOST?: string;
  @IsOptional() @Type(() => Number) @IsInt({ message: '$property must be a whole number from 0 to 65535' }) @Min(0) @Max(65535)
  GATEWAY_PORT?: number;
  @IsOptional() @Type(() => Number) @IsInt({ message: '$property must be a whole number from 0 to 65535' }) @Min(0) @Max(65535)
  PORT?: number;
  @IsOptional() @IsString() @MinLength(16, { message: '$property must be at least 16 characters' }) GATEWAY_ADMIN_TOKEN?: string;
  @IsOptional() @IsString() @Matches(/^rediss?:\/\//, { message: '$property must be a redis:// or rediss:// URL' }) REDIS_URL?: string;
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL?: LogLevel;
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) GATEWAY_SHUTDOWN_GRACE_MS?: number;
  @IsOptional() @IsString() GATEWAY_PLUGINS?: string;
}

export interface GatewayEnvironment {
  readonly configPath: string;
  readonly host: string;
  readonly port: number;
  readonly adminToken: string | null;
  readonly redisUrl: string | null;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
  /** Compiled plugin modules to load at start (GATEWAY_PLUGINS, comma-separated paths). */
  readonly pluginPaths: readonly string[];
}

/** Validates the variables the gateway reads (others are ignored) and applies defaults. */
export function validateEnvironment(env: Record<string, unknown>): GatewayEnvironment {
  const known: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of ENVIRONMENT_VARIABLES) {
    const value = typeof env[key] === 'string' ? (env[key] as string).trim() : env[key];
    if (value === undefined || value === '') continue;
    if (NUMERIC_KEYS.has(key) && !/^\d+$/.test(String(value))) {
      problems.push(`${key}: must be a whole number written in decimal digits (got "${String(value)}")`);
      continue;
    }
    known[key] = value;
  }
  const schema = plainToInstance(EnvironmentSchema, known);
  problems.push(...flattenValidationErrors(validateSync(schema, { validationError: { target: false, value: true } })));
  if (problems.length > 0) throw new ConfigError('env', problems);
  return Object.freeze({
    configPath: schema.GATEWAY_CONFIG ?? DEFAULT_CONFIG_PATH,
    host: schema.GATEWAY_HOST ?? '0.0.0.0',
    port: schema.GATEWAY_PORT ?? schema.PORT ?? 8080,
    adminToken: schema.GATEWAY_ADMIN_TOKEN ?? null,
    redisUrl: schema.REDIS_URL ?? null,
    logLevel: schema.LOG_LEVEL ?? 'info',
    shutdownGraceMs: schema.GATEWAY_SHUTDOWN_GRACE_MS ?? 10_000,
    pluginPaths: Object.freeze((schema.GATEWAY_PLUGINS ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')),
  });
}

const NUMERIC_KEYS = new Set(['GATEWAY_PORT', 'PORT', 'GATEWAY_SHUTDOWN_GRACE_MS']);

/** The variable names, listed once so unknown process variables are never validated. */
class EnvironmentSchemaKeys {
  GATEWAY_CONFIG = 0;
  GATEWAY_HOST = 0;
  GATEWAY_PORT = 0;
  PORT = 0;
  GATEWAY_ADMIN_TOKEN = 0;
  REDIS_URL = 0;
  LOG_LEVEL = 0;
  GATEWAY_SHUTDOWN_GRACE_MS = 0;
  GATEWAY_PLUGINS = 0;
}

/** Every variable the gateway reads (config/.env.example lists them all; a test keeps it so). */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.freeze(Object.keys(new EnvironmentSchemaKeys()));
