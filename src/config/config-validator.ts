import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import type { ValidatorOptions } from 'class-validator';
import { validateSync } from './class-validator-parts';
import { parsePathPattern, templateReferences } from '../routing/path-pattern';
import { ConfigError } from './config-error';
import { GatewayConfigSchema, RouteSchema, UPSTREAM_NAME_PATTERN, UpstreamSchema } from './gateway-config.schema';
import type { GatewayConfig } from './gateway-config.types';
import { resolveGatewayConfig } from './config-resolver';
import { flattenValidationErrors, joinPath } from './validation-messages';

const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: true },
};

/**
 * Validates a parsed config file and returns the frozen, defaulted config. Every problem is
 * collected before throwing, so users fix them all in one go.
 */
export function validateGatewayConfig(raw: unknown): GatewayConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('config', ['the file must hold an object with upstreams and routes']);
  }
  const schema = plainToInstance(GatewayConfigSchema, raw);
  const problems = flattenValidationErrors(validateSync(schema, VALIDATOR_OPTIONS));
  const upstreams = validateUpstreams(schema.upstreams, problems);
  if (Array.isArray(schema.routes)) crossCheckRoutes(schema, upstreams, problems);
  if (problems.length > 0) throw new ConfigError('config', problems);
  return resolveGatewayConfig(schema, upstreams);
}

function validateUpstreams(raw: unknown, problems: string[]): Map<string, UpstreamSchema> {
  const upstreams = new Map<string, UpstreamSchema>();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return upstreams;
  for (const [name, value] of Object.entries(raw)) {
    const path = joinPath('upstreams', name);
    if (!UPSTREAM_NAME_PATTERN.test(name)) problems.push(`${path}: upstream names are letters, digits, _ . -`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${path}: must be an object with targets`);
      continue;
    }
    const upstream = plainToInstance(UpstreamSchema, value);
    problems.push(...flattenValidationErrors(validateSync(upstream, VALIDATOR_OPTIONS), path));
    (upstream.targets ?? []).forEach((target, i) => {
      const problem = targetProblem(target);
      if (problem) problems.push(`${path}.targets[${i}]: ${problem}`);
    });
    upstreams.set(name, upstream);
  }
  if (upstreams.size === 0) problems.push('upstreams: define at least one upstream');
  return upstreams;
}

function targetProblem(target: unknown): string | null {
  if (typeof target !== 'string') return null; // reported by the schema
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return `"${target}" is not a valid URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${target}" must be an http:// or https:// URL`;
  if (url.search || url.hash) return `"${target}" must not have a query or fragment`;
  if (url.username || url.password) return `"${target}" must not carry credentials`;
  return null;
}

function crossCheckRoutes(schema: GatewayConfigSchema, upstreams: Map<string, UpstreamSchema>, problems: string[]): void {
  const seenIds = new Map<string, number>();
  const prefix = schema.server?.managementPrefix ?? '/_gateway';
  schema.routes.forEach((route, i) => {
    if (!(route instanceof RouteSchema)) return;
    const at = `routes[${i}]`;
    if (typeof route.id === 'string') {
      const first = seenIds.get(route.id);
      if (first !== undefined) problems.push(`${at}.id: "${route.id}" is already used by routes[${first}]`);
      else seenIds.set(route.id, i);
    }
    if (typeof route.upstream === 'string' && !upstreams.has(route.upstream)) {
      problems.push(`${at}.upstream: "${route.upstream}" is not a defined upstream`);
    }
    if (route.rewrite !== undefined && route.stripPrefix !== undefined) {
      problems.push(`${at}: set rewrite or stripPrefix, not both`);
    }
    if ((route.path === undefined) === (route.pathRegex === undefined)) {
      problems.push(`${at}: set exactly one of path and pathRegex`);
    } else if (typeof route.path === 'string') {
      checkPathRoute(route, at, prefix, problems);
    } else if (typeof route.pathRegex === 'string') {
      try {
        new RegExp(route.pathRegex);
      } catch (error) {
        problems.push(`${at}.pathRegex: not a valid regular expression (${(error as Error).message})`);
      }
    }
    for (const [name, value] of Object.entries(route.headers ?? {})) {
      if (typeof value !== 'string') problems.push(`${at}.headers.${name}: must be a string`);
      if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) problems.push(`${at}.headers.${name}: header names must be lower-case tokens`);
    }
  });
}

function checkPathRoute(route: RouteSchema, at: string, managementPrefix: string, problems: string[]): void {
  const path = route.path!;
  let pattern;
  try {
    pattern = parsePathPattern(path);
  } catch (error) {
    problems.push(`${at}.path: "${path}" ${(error as Error).message}`);
    return;
  }
  if (path === managementPrefix || path.startsWith(`${managementPrefix}/`)) {
    problems.push(`${at}.path: "${path}" is under the reserved management prefix ${managementPrefix}`);
  }
  if (typeof route.rewrite === 'string') {
    const refs = templateReferences(route.rewrite);
    for (const name of refs.params) {
      if (!pattern.paramNames.includes(name)) problems.push(`${at}.rewrite: ":${name}" is not a parameter of path "${path}"`);
    }
    if (refs.wildcard && !pattern.hasWildcard) problems.push(`${at}.rewrite: uses * but path "${path}" has no * tail`);
  }
}
