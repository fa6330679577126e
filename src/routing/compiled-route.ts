import type { IncomingHttpHeaders } from 'node:http';
import type { RouteSettings } from '../config/gateway-config.types';
import { parsePathPattern, type PathPattern } from './path-pattern';

/** A route with its predicates and rewrite prepared once, at table build time. */
export class CompiledRoute {
  readonly pattern: PathPattern | null;
  readonly regex: RegExp | null;
  private readonly methods: ReadonlySet<string> | null;
  private readonly hostSuffix: string | null;
  private readonly hostExact: string | null;
  private readonly headerPredicates: ReadonlyArray<readonly [string, string]>;
  private readonly rewriteParts: ReadonlyArray<string | number> | null;

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
    if (this.hostExact !== null && host !== this.hostExact) return false;
    if (this.hostSuffix !== null && !(host.endsWith(this.hostSuffix) && host.length > this.hostSuffix.length)) {
      return false;
    }
    for (const [name, value] of this.headerPredicates) {
      if (headers[name] !== value) return false;
    }
    return true;
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
