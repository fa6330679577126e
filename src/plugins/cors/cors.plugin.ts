import { Injectable } from '@nestjs/common';
import { GatewayError } from '../../errors/gateway-error';
import { GatewayPluginBase, type PluginRequest, type PluginResponse } from '../gateway-plugin';
import { CorsConfig } from './cors.config';

const DEFAULT_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'];

export interface CorsPolicy {
  readonly anyOrigin: boolean;
  readonly origins: ReadonlySet<string>;
  readonly methods: ReadonlySet<string>;
  readonly allowMethods: string;
  /** Lower-case; null: allow what the preflight asks for. */
  readonly headers: ReadonlySet<string> | null;
  readonly exposedHeaders: string | null;
  readonly credentials: boolean;
  readonly maxAgeSeconds: number | null;
}

/**
 * `cors` (docs/plugins.md "Plugins"): preflights (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) are answered here with 204 and never forwarded, or refused
 * with 403 forbidden when the origin, method or a requested header is not allowed. On other
 * requests from an allowed origin the response gets `Access-Control-Allow-Origin` (and
 * credentials / exposed headers); every response varies by `Origin`.
 */
@Injectable()
export class CorsPlugin extends GatewayPluginBase<CorsConfig, CorsPolicy> {
  readonly name = 'cors';
  readonly configClass = CorsConfig;
  readonly answersPreflight = true;

  configure(config: CorsConfig): CorsPolicy {
    const anyOrigin = config.origins.includes('*');
    // Browsers refuse `*` with credentials; echoing every origin instead would hand credentials to any site.
    if (anyOrigin && config.credentials === true) throw new Error('origins: * cannot be combined with credentials: true; list the origins');
    const methods = config.methods ?? DEFAULT_METHODS;
    return {
      anyOrigin,
      origins: new Set(config.origins),
      methods: new Set(methods),
      allowMethods: methods.join(', '),
      headers: config.headers ? new Set(config.headers.map((h) => h.toLowerCase())) : null,
      exposedHeaders: config.exposedHeaders?.length ? config.exposedHeaders.join(', ') : null,
      credentials: config.credentials === true,
      maxAgeSeconds: config.maxAgeSeconds ?? null,
    };
  }

  beforeUpstream(request: PluginRequest, policy: CorsPolicy): void {
    const origin = single(request.headers.origin);
    const asked = single(request.headers['access-control-request-method']);
    if (request.method !== 'OPTIONS' || origin === undefined || asked === undefined) return;
    if (!allowsOrigin(policy, origin)) throw forbidden(`origin ${origin} is not allowed`);
    if (!policy.methods.has(asked)) throw forbidden(`method ${asked} is not allowed for cross-origin requests`);
    const askedHeaders = single(request.headers['access-control-request-headers']) ?? '';
    const wanted = askedHeaders.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
    const refused = policy.headers === null ? undefined : wanted.find((h) => !policy.headers!.has(h));
    if (refused !== undefined) throw forbidden(`header ${refused} is not allowed for cross-origin requests`);
    const headers: Record<string, string> = {
      'access-control-allow-origin': policy.anyOrigin ? '*' : origin,
      'access-control-allow-methods': policy.allowMethods,
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    };
    if (wanted.length > 0) headers['access-control-allow-headers'] = wanted.join(', ');
    if (policy.credentials) headers['access-control-allow-credentials'] = 'true';
    if (policy.maxAgeSeconds !== null) headers['access-control-max-age'] = String(policy.maxAgeSeconds);
    request.respond(204, headers);
  }

  onResponse(response: PluginResponse, policy: CorsPolicy): void {
    response.setHeader('vary', withOrigin(response.headers.vary));
    const origin = single(response.request.headers.origin);
    if (origin === undefined || !allowsOrigin(policy, origin)) return;
    // A preflight that reaches this point was refused (403): it must not read as allowed.
    if (response.request.method === 'OPTIONS' && response.request.headers['access-control-request-method'] !== undefined) return;
    response.setHeader('access-control-allow-origin', policy.anyOrigin ? '*' : origin);
    if (policy.credentials) response.setHeader('access-control-allow-credentials', 'true');
    if (policy.exposedHeaders !== null) response.setHeader('access-control-expose-headers', policy.exposedHeaders);
  }
}

function allowsOrigin(policy: CorsPolicy, origin: string): boolean {
  return policy.anyOrigin || policy.origins.has(origin);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The upstream's own Vary, with Origin added once. */
function withOrigin(vary: string | string[] | number | undefined): string {
  const current = vary === undefined ? '' : Array.isArray(vary) ? vary.join(', ') : String(vary);
  if (current.split(',').some((v) => v.trim().toLowerCase() === 'origin' || v.trim() === '*')) return current;
  return current === '' ? 'Origin' : `${current}, Origin`;
}

function forbidden(message: string): GatewayError {
  return new GatewayError('forbidden', message);
}
