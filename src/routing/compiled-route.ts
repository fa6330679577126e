import type { IncomingHttpHeaders } from 'node:http';
import type { RouteSettings } from '../config/gateway-config.types';
import type { RouteBinding } from './route-binding';
import { matchesPattern, parsePathPattern, type PathPattern } from './path-pattern';

/** A route with its predicates and rewrite prepared once, at table build time. */
export class CompiledRoute {
  readonly pattern: PathPattern | null;
  readonly regex: RegExp | null;
  private readonly methods: ReadonlySet<string> | null;
  private readonly hostSuffix: string | null;
  private readonly hostExact: string | null;
  private readonly headerPredicates: ReadonlyArray<readonly [string, string]>;
  private readonly rewriteParts: ReadonlyArray<string | number> | null;
  private bound: RouteBinding | null = null;

  constructor(readonly settings: RouteSettings) {
    this.pattern = settings.path !== null ? parsePathPattern(settings.path) : null;
    this.regex = settings.pathRegex !== null ? new RegExp(settings.pathRegex) : null;
    this.methods = settings.methods ? new Set(settings.methods) : null;
    const host = settings.host;
    this.hostSuffix = host?.startsWith('*.') ? host.slice(1) : null;
    this.hostExact = host && !host.startsWith('*.') ? host : null;
    this.headerPredicates = Object.entries(settings.headers);
    this.rewriteParts = this.pattern && settings.rewrite ? compileTemplate(settings.rewrite, this.pattern) : null;
  }

  /** Set when the route's config generation is published (RouteTableService), before any request sees it. */
  bind(binding: RouteBinding): void {
    this.bound = binding;
  }

  get binding(): RouteBinding {
    if (this.bound === null) throw new Error(`route "${this.id}" was never bound to its upstream`);
    return this.bound;
  }

  get id(): string {
    return this.settings.id;
  }

  allowsMethod(method: string): boolean {
    return this.methods === null || this.methods.has(method);
  }

  get allowedMethods(): readonly string[] {
    return this.settings.methods ?? [];
  }

  /** Host and header predicates; `host` is already lower-case without its port. */
  matchesRequest(host: string, headers: IncomingHttpHeaders): boolean {
    if (!this.matchesHost(host)) return false;
    for (const [name, value] of this.headerPredicates) {
      if (headers[name] !== value) return false;
    }
    return true;
  }

  /** The path predicate alone, so an explanation can say which predicate failed. */
  matchPath(path: string): boolean {
    if (this.pattern !== null) return matchesPattern(this.pattern, path);
    return this.regex !== null && this.regex.test(path);
  }

  /** The host predicate of matchesRequest alone; `host` is already lower-case without its port. */
  matchesHost(host: string): boolean {
    if (this.hostExact !== null) return host === this.hostExact;
    if (this.hostSuffix !== null) return host.endsWith(this.hostSuffix) && host.length > this.hostSuffix.length;
    return true;
  }

  /** The header predicates of matchesRequest that `headers` fail, as [name, expected value]. */
  failedHeaders(headers: IncomingHttpHeaders): ReadonlyArray<readonly [string, string]> {
    return this.headerPredicates.filter(([name, value]) => headers[name] !== value);
  }

  /** The upstream path for a request that matched this route. `values` are the params, then the tail. */
  upstreamPath(path: string, values: readonly string[]): string {
    const { rewrite, stripPrefix } = this.settings;
    if (this.rewriteParts !== null) {
      let out = '';
      for (const part of this.rewriteParts) out += typeof part === 'number' ? values[part] : part;
      return out;
    }
    if (this.regex !== null && rewrite !== null) return path.replace(this.regex, rewrite);
    if (stripPrefix !== null && (path === stripPrefix || path.startsWith(`${stripPrefix}/`))) {
      return path.slice(stripPrefix.length) || '/';
    }
    return path;
  }
}

/** Splits `/v1/users/:id/*` into literals and indexes into the matched values (params, then tail). */
function compileTemplate(template: string, pattern: PathPattern): Array<string | number> {
  const parts: Array<string | number> = [];
  const tailIndex = pattern.paramNames.length;
  const tokens = template.split(/(:[A-Za-z_][A-Za-z0-9_]*|(?<=\/)\*$)/);
  for (const token of tokens) {
    if (token === '') continue;
    if (token === '*') parts.push(tailIndex);
    else if (token.startsWith(':') && pattern.paramNames.includes(token.slice(1))) {
      parts.push(pattern.paramNames.indexOf(token.slice(1)));
    } else parts.push(token);
  }
  return parts;
}
