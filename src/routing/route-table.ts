import type { IncomingHttpHeaders } from 'node:http';
import type { RouteSettings } from '../config/gateway-config.types';
import { CompiledRoute } from './compiled-route';

export interface RouteRequest {
  readonly method: string;
  /** Already normalised (see normalisePath). */
  readonly path: string;
  /** The Host header as received, or undefined. */
  readonly host: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

export type RouteMatch =
  | { readonly kind: 'route'; readonly route: CompiledRoute; readonly upstreamPath: string }
  | { readonly kind: 'no_route' }
  | { readonly kind: 'method_not_allowed'; readonly allow: readonly string[] };

const NO_ROUTE: RouteMatch = Object.freeze({ kind: 'no_route' });

class TrieNode {
  readonly children = new Map<string, TrieNode>();
  param: TrieNode | null = null;
  readonly routes: CompiledRoute[] = [];
  readonly wildcardRoutes: CompiledRoute[] = [];
}

/** Collects the outcome while candidates are tried in specificity order. */
class MatchState {
  found: { route: CompiledRoute; values: string[] } | null = null;
  allow: Set<string> | null = null;

  constructor(
    readonly method: string,
    readonly host: string,
    readonly headers: IncomingHttpHeaders,
  ) {}

  /** Tries routes in file order; returns true once one matches fully. */
  tryRoutes(routes: readonly CompiledRoute[], values: string[]): boolean {
    for (const route of routes) {
      if (!route.matchesRequest(this.host, this.headers)) continue;
      if (route.allowsMethod(this.method)) {
        this.found = { route, values: values.slice() };
        return true;
      }
      this.allow ??= new Set();
      for (const m of route.allowedMethods) this.allow.add(m);
    }
    return false;
  }
}

/**
 * The compiled route table: a segment trie for path routes (lookup cost depends on the
 * path's depth, not on the number of routes) and an ordered list of regex routes tried after.
 * Pure TypeScript so it can be unit-tested and benchmarked without Nest.
 */
export class RouteTable {
  private readonly root = new TrieNode();
  private readonly regexRoutes: CompiledRoute[] = [];
  /** managementPrefix + '/', built once. */
  private readonly managementDir: string;
  readonly routes: readonly CompiledRoute[];

  constructor(
    settings: readonly RouteSettings[],
    private readonly managementPrefix: string,
  ) {
    this.managementDir = `${managementPrefix}/`;
    this.routes = settings.map((s) => new CompiledRoute(s));
    for (const route of this.routes) {
      if (route.pattern === null) this.regexRoutes.push(route);
      else this.insert(route);
    }
  }

  /** The prefix never routed (docs/routing.md "Route matching" step 2), for explaining a miss. */
  get managementPathPrefix(): string {
    return this.managementPrefix;
  }

  match(request: RouteRequest): RouteMatch {
    const { path } = request;
    if (path === this.managementPrefix || path.startsWith(this.managementDir)) return NO_ROUTE;
    const state = new MatchState(request.method, hostWithoutPort(request.host), request.headers);
    const segments = path.slice(1).split('/');
    if (!this.visit(this.root, segments, 0, [], state)) {
      for (const route of this.regexRoutes) {
        if (route.regex!.test(path) && state.tryRoutes([route], [])) break;
      }
    }
    if (state.found) {
      const { route, values } = state.found;
      return { kind: 'route', route, upstreamPath: route.upstreamPath(path, values) };
    }
    if (state.allow) return { kind: 'method_not_allowed', allow: [...state.allow].sort() };
    return NO_ROUTE;
  }

  private insert(route: CompiledRoute): void {
    let node = this.root;
    for (const segment of route.pattern!.segments) {
      if (segment.kind === 'wildcard') {
        node.wildcardRoutes.push(route);
        return;
      }
      if (segment.kind === 'param') {
        node.param ??= new TrieNode();
        node = node.param;
      } else {
        let child = node.children.get(segment.value);
        if (!child) node.children.set(segment.value, (child = new TrieNode()));
        node = child;
      }
    }
    node.routes.push(route);
  }

  /** Depth-first, static before `:param` before `*`, so the most specific route wins. */
  private visit(node: TrieNode, segments: string[], i: number, values: string[], state: MatchState): boolean {
    if (i === segments.length) {
      if (node.routes.length > 0 && state.tryRoutes(node.routes, values)) return true;
    } else {
      const segment = segments[i];
      const child = node.children.get(segment);
      if (child && this.visit(child, segments, i + 1, values, state)) return true;
      if (node.param && segment !== '') {
        values.push(segment);
        const matched = this.visit(node.param, segments, i + 1, values, state);
        values.pop();
        if (matched) return true;
      }
    }
    if (node.wildcardRoutes.length > 0) {
      values.push(segments.slice(i).join('/'));
      const matched = state.tryRoutes(node.wildcardRoutes, values);
      values.pop();
      return matched;
    }
    return false;
  }
}

/** The Host header as routes compare it: lower-case, without its port ('' when absent). */
export function hostWithoutPort(host: string | undefined): string {
  if (!host) return '';
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}
