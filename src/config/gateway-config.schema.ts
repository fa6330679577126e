import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from './class-validator-parts';

/*
 * The shape of the config file as written by users (docs/configuration.md "Config file reference"). Every documented
 * field is here, so a file written to the docs is accepted.
 * Class instances are only used for validation; `config-resolver.ts` turns them into the
 * frozen `GatewayConfig`.
 */

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MANAGEMENT_PREFIX = /^(\/[A-Za-z0-9._~-]+)+$/;
const HTTP_TOKEN = /^[A-Z][A-Z0-9_-]*$/;
const HOST_PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const RATE_LIMIT_KEY = /^(ip|route|consumer|header:[a-z0-9!#$%&'*+.^_`|~-]+)$/;
/** The longest delay a Node timer takes (2^31 - 1 ms); a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;
/** Envoy's ceiling for `max_request_headers_kb` (8 MiB). */
const MAX_HEADER_BYTES = 8 * 1024 * 1024;

export class ServerSchema {
  @IsOptional() @IsInt() @Min(1) bodyLimitBytes?: number;
  @IsOptional() @IsBoolean() trustProxy?: boolean;
  @IsOptional()
  @IsString()
  @Matches(MANAGEMENT_PREFIX, { message: '$property must be a path such as /_gateway (no trailing slash)' })
  managementPrefix?: string;
  @IsOptional() @IsIn(['reject', 'keep']) pathEscapedSlashes?: 'reject' | 'keep';
  @IsOptional() @IsIn(['open', 'closed']) rateLimitFailMode?: 'open' | 'closed';
  @IsOptional() @IsInt() @Min(100) @Max(MAX_TIMER_MS) headersTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(MAX_HEADER_BYTES) maxHeaderBytes?: number;
  @IsOptional() @IsInt() @Min(100) @Max(MAX_TIMER_MS) bodyIdleTimeoutMs?: number;
}

/** One entry of `plugins`: the plugin's name, and its `config` (validated by the plugin itself once loaded). */
export class PluginEntrySchema {
  @IsString() @Matches(NAME, { message: '$property must be a plugin name (letters, digits, _ . -)' }) name!: string;
  @IsOptional() @IsObject() config?: Record<string, unknown>;
}

export class DefaultsSchema {
  @IsOptional() @IsInt() @Min(1) timeoutMs?: number;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => PluginEntrySchema) plugins?: PluginEntrySchema[];
}

export class PoolSchema {
  @IsOptional() @IsInt() @Min(1) maxSockets?: number;
  @IsOptional() @IsInt() @Min(0) maxIdleSockets?: number;
  @IsOptional() @IsInt() @Min(1) idleTimeoutMs?: number;
}

export class ConcurrencySchema {
  @IsInt() @Min(1) limit!: number;
  @IsOptional() @IsInt() @Min(0) queue?: number;
  @IsOptional() @IsInt() @Min(1) queueTimeoutMs?: number;
}

export class HealthCheckSchema {
  @IsString() @Matches(/^\//, { message: '$property must start with /' }) path!: string;
  @IsOptional() @IsInt() @Min(100) intervalMs?: number;
  @IsOptional() @IsInt() @Min(1) timeoutMs?: number;
  @IsOptional() @IsInt() @Min(1) unhealthyThreshold?: number;
  @IsOptional() @IsInt() @Min(1) healthyThreshold?: number;
}

export class PassiveHealthSchema {
  @IsOptional() @IsInt() @Min(0) consecutiveFailures?: number;
  @IsOptional() @IsInt() @Min(1) ejectMs?: number;
  @IsOptional() @IsInt() @Min(1) maxEjectMs?: number;
}

export class UpstreamSchema {
  @IsArray() @ArrayMinSize(1) @ArrayUnique() @IsString({ each: true }) targets!: string[];
  @IsOptional() @IsIn(['round-robin', 'least-request']) loadBalancing?: 'round-robin' | 'least-request';
  @IsOptional() @ValidateNested() @Type(() => PoolSchema) pool?: PoolSchema;
  @IsOptional() @IsInt() @Min(1) connectTimeoutMs?: number;
  @IsOptional() @ValidateNested() @Type(() => ConcurrencySchema) concurrency?: ConcurrencySchema;
  @IsOptional() @ValidateNested() @Type(() => HealthCheckSchema) healthCheck?: HealthCheckSchema;
  @IsOptional() @ValidateNested() @Type(() => PassiveHealthSchema) passiveHealth?: PassiveHealthSchema;
  @IsOptional() @IsBoolean() preserveHost?: boolean;
}

export class RateLimitSchema {
  @IsInt() @Min(1) limit!: number;
  @IsInt() @Min(1) windowMs!: number;
  @IsOptional()
  @IsString()
  @Matches(RATE_LIMIT_KEY, { message: '$property must be ip, route, consumer or header:<lower-case name>' })
  key?: string;
}

export class RetrySchema {
  @IsInt() @Min(0) @Max(10) attempts!: number;
}

export class RouteSchema {
  @IsString() @Matches(NAME, { message: '$property must be letters, digits, _ . - (starting with a letter or digit)' })
  id!: string;
  @IsOptional() @IsString() path?: string;
  @IsOptional() @IsString() pathRegex?: string;
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @Matches(HTTP_TOKEN, { each: true, message: '$property must hold upper-case HTTP method names' })
  methods?: string[];
  @IsOptional()
  @IsString()
  @Matches(HOST_PATTERN, { message: '$property must be a lower-case host name, optionally starting with *.' })
  host?: string;
  @IsOptional() @IsObject() headers?: Record<string, unknown>;
  @IsString() upstream!: string;
  @IsOptional() @IsString() @Matches(/^\//, { message: '$property must start with /' }) rewrite?: string;
  @IsOptional() @IsString() @Matches(/^\/./, { message: '$property must start with / and not be /' }) stripPrefix?: string;
  @IsOptional() @IsInt() @Min(1) timeoutMs?: number;
  @IsOptional() @ValidateNested() @Type(() => ConcurrencySchema) concurrency?: ConcurrencySchema;
  @IsOptional() @ValidateNested() @Type(() => RateLimitSchema) rateLimit?: RateLimitSchema;
  @IsOptional() @ValidateNested() @Type(() => RetrySchema) retry?: RetrySchema;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => PluginEntrySchema) plugins?: PluginEntrySchema[];
}

export class GatewayConfigSchema {
  @IsOptional() @ValidateNested() @Type(() => ServerSchema) server?: ServerSchema;
  @IsOptional() @ValidateNested() @Type(() => DefaultsSchema) defaults?: DefaultsSchema;
  /* Validated entry by entry in config-validator.ts: class-transformer cannot type the values of a plain record. */
  @IsObject() upstreams!: Record<string, unknown>;
  @IsArray() @ValidateNested({ each: true }) @Type(() => RouteSchema) routes!: RouteSchema[];
}

export { NAME as UPSTREAM_NAME_PATTERN };
