import type { IncomingHttpHeaders } from 'node:http';
import type { PathEscapedSlashes } from '../config/gateway-config.types';
import { ERROR_CATALOGUE } from '../errors/error-catalogue';
import { targetDisguise } from './path-disguise';
import { normalisePath } from './path-normaliser';
import { hostWithoutPort, type RouteTable } from './route-table';
import { candidateVerdicts, type CandidateVerdict, type ComparedRequest } from './route-verdicts';

export type { CandidateVerdict } from './route-verdicts';

/** A dry-run request, as the admin explain endpoint receives it. */
export interface ExplainRequest {
  readonly method: string;
  /** As received: not yet normalised, possibly with a `?query`. */
  readonly path: string;
  readonly host: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

export type ExplainOutcome = 'route' | 'no_route' | 'method_not_allowed' | 'bad_request';

export interface RouteExplanation {
  /** What the table compared: the normalised path, and the host lower-case without its port ('' if none). */
  readonly request: { readonly method: string; readonly path: string; readonly host: string };
  readonly outcome: ExplainOutcome;
  /** The status the gateway answers itself, or null when the request would be proxied. */
  readonly status: number | null;
  /** Why the gateway answers itself (the guard's error message, or the reserved prefix), else null. */
  readonly message: string | null;
  /** The id of the route that would serve the request. */
  readonly route: string | null;
  /** The `Allow` list of a 405, else null. */
  readonly allow: readonly string[] | null;
  /** The path and query the upstream would receive. */
  readonly upstreamPath: string | null;
  /** Every route of the table, in file order. */
  readonly candidates: readonly CandidateVerdict[];
}

/**
 * What the live route table would do with a request, and why each route did or did not serve it
 * (`GET <managementPrefix>/admin/explain`). Follows RouteMatchGuard step by step: the query is
 * set aside, the path normalised, disguised separators refused, then RouteTable.match decides.
 */
export function explainRoute(
  table: RouteTable,
  request: ExplainRequest,
  escapedSlashes: PathEscapedSlashes,
): RouteExplanation {
  const queryAt = request.path.indexOf('?');
  const query = queryAt === -1 ? '' : request.path.slice(queryAt);
  const path = normalisePath(queryAt === -1 ? request.path : request.path.slice(0, queryAt));
  const compared: ComparedRequest = {
    method: request.method,
    path,
    host: hostWithoutPort(request.host),
    headers: request.headers,
  };
  const summary = { method: compared.method, path, host: compared.host };

  const disguise = targetDisguise(request.path, path, escapedSlashes);
  if (disguise !== null) return unrouted(table, summary, 'bad_request', `refused: ${disguise}`);

  const match = table.match({ method: request.method, path, host: request.host, headers: request.headers });
  const prefix = table.managementPathPrefix;
  if (match.kind === 'no_route' && (path === prefix || path.startsWith(`${prefix}/`))) {
    // No route is even tried, so predicate reasons would mislead.
    const reserved = `management: ${prefix} is reserved for the gateway's own endpoints; ${path} is never routed`;
    return unrouted(table, summary, 'no_route', reserved);
  }
  if (match.kind === 'route') {
    return {
      request: summary,
      outcome: 'route',
      status: null,
      message: null,
      route: match.route.id,
      allow: null,
      upstreamPath: match.upstreamPath + query,
      candidates: candidateVerdicts(table.routes, compared, match.route),
    };
  }
  const message =
    match.kind === 'no_route' ? `no route for ${request.method} ${path}` : `${request.method} is not allowed on ${path}`;
  return {
    request: summary,
    outcome: match.kind,
    status: ERROR_CATALOGUE[match.kind].status,
    message,
    route: null,
    allow: match.kind === 'method_not_allowed' ? match.allow : null,
    upstreamPath: null,
    candidates: candidateVerdicts(table.routes, compared, null),
  };
}

/** Refused before any route is compared: every candidate carries the one reason. */
function unrouted(
  table: RouteTable,
  summary: RouteExplanation['request'],
  outcome: 'bad_request' | 'no_route',
  message: string,
): RouteExplanation {
  return {
    request: summary,
    outcome,
    status: ERROR_CATALOGUE[outcome].status,
    message,
    route: null,
    allow: null,
    upstreamPath: null,
    candidates: table.routes.map((route) => ({ route: route.id, matched: false, reasons: [message] })),
  };
}
