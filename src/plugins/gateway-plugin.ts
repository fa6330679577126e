import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { GatewayErrorCode } from '../errors/error-catalogue';

/** A class-validator class: `plainToInstance` + `validateSync` turn a route's `config` into one. */
export type PluginConfigClass<C extends object> = new () => C;

/** The request as a plugin sees it before the upstream call, and what it may do to it. */
export interface PluginRequest {
  readonly method: string;
  /** The path as received (query string included). */
  readonly url: string;
  /** The request headers, lower-case names; changes go through the methods below. */
  readonly headers: Readonly<IncomingHttpHeaders>;
  readonly route: string;
  readonly clientIp: string;
  readonly traceId: string;
  readonly requestId: string;
  /** Sets (or replaces) a header sent upstream. */
  setRequestHeader(name: string, value: string): void;
  /** Keeps a header from being sent upstream. */
  removeRequestHeader(name: string): void;
  /** The authenticated consumer: logged, counted by `rateLimit.key: consumer`. */
  setConsumer(id: string): void;
  /** Answers the request here (e.g. a CORS preflight): no upstream call, no rate limit, no permit. */
  respond(status: number, headers?: OutgoingHttpHeaders): void;
  /**
   * Refuses the request with a gateway error (docs/errors.md "Errors and status codes"), e.g.
   * `refuse('forbidden', 'unknown tenant')`. The same as throwing a GatewayError, for plugins
   * loaded by GATEWAY_PLUGINS that do not import the gateway's code.
   */
  refuse(code: GatewayErrorCode, message: string, headers?: Readonly<Record<string, string>>): never;
}

/** The upstream's response head on its way to the client. */
export interface PluginResponse {
  readonly status: number;
  readonly request: Pick<PluginRequest, 'method' | 'url' | 'headers' | 'route' | 'traceId' | 'requestId'>;
  /** The headers the client will get (hop-by-hop ones already removed); edit through the methods. */
  readonly headers: Readonly<OutgoingHttpHeaders>;
  setHeader(name: string, value: string | string[]): void;
  removeHeader(name: string): void;
}

/** How a request ended, for audit. */
export interface PluginCompletion {
  readonly method: string;
  readonly url: string;
  /** The request headers as forwarded (after the plugins' changes). */
  readonly requestHeaders: Readonly<IncomingHttpHeaders>;
  readonly route: string;
  /** The status the client got; 499 when it left first. */
  readonly status: number;
  readonly durationMs: number;
  readonly consumerId: string | null;
  readonly traceId: string;
  readonly requestId: string;
}

/**
 * A gateway plugin (docs/plugins.md "Write your own plugin"): an injectable class in a Nest module of
 * its own. `configure` turns a route's validated `config` into whatever the hooks need (read a
 * file, compile a pattern), once per route and config generation, at start and on reload; an
 * Error thrown there is a config error naming the field. The hooks run in the route's
 * `plugins` order: `beforeUpstream` after route match and before rate limits and permits
 * (return to allow; throw a GatewayError to refuse; anything else thrown is a 500
 * `plugin_error`), `onResponse` when the upstream's headers arrive, `onComplete` when the
 * request is over.
 */
export interface GatewayPlugin<C extends object = object, S = C> {
  readonly name: string;
  /** Validates the route's `config`; without one, the plugin takes no config. */
  readonly configClass?: PluginConfigClass<C>;
  /** Answers CORS preflights: an `OPTIONS` preflight reaches it on a route that does not list `OPTIONS`. */
  readonly answersPreflight?: boolean;
  configure?(config: C, route: string): S;
  beforeUpstream?(request: PluginRequest, state: S): void | Promise<void>;
  onResponse?(response: PluginResponse, state: S): void;
  onComplete?(completion: PluginCompletion, state: S): void;
}

/** An optional base class: names the plugin, and says `instanceof` for discovery. */
export abstract class GatewayPluginBase<C extends object = object, S = C> implements GatewayPlugin<C, S> {
  abstract readonly name: string;
}

/** True for a provider instance that is a gateway plugin. */
export function isGatewayPlugin(instance: unknown): instance is GatewayPlugin<object, unknown> {
  if (instance instanceof GatewayPluginBase) return true;
  if (typeof instance !== 'object' || instance === null) return false;
  const candidate = instance as Partial<GatewayPlugin>;
  return (
    typeof candidate.name === 'string' &&
    (typeof candidate.beforeUpstream === 'function' || typeof candidate.onResponse === 'function' || typeof candidate.onComplete === 'function')
  );
}
