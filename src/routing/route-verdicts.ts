import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledRoute } from './compiled-route';
import { compareSpecificity } from './path-pattern';

/** One route of the table, and why it did not serve the request (empty for the one that did). */
export interface CandidateVerdict {
  readonly route: string;
  readonly matched: boolean;
  readonly reasons: readonly string[];
}

/** The request as the route table compares it. */
export interface ComparedRequest {
  readonly method: string;
  /** Normalised, without the query. */
  readonly path: string;
  /** Lower-case, without the port; '' when there is no Host header. */
  readonly host: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Verdicts in file order. The winner comes from RouteTable.match; the per-route checks here only
 * word the reasons, so the explanation cannot disagree with what the gateway does.
 */
export function candidateVerdicts(
  routes: readonly CompiledRoute[],
  request: ComparedRequest,
  winner: CompiledRoute | null,
): CandidateVerdict[] {
  return routes.map((route) => {
    if (route === winner) return { route: route.id, matched: true, reasons: [] };
    const reasons = failedPredicates(route, request);
    if (reasons.length === 0 && winner !== null) reasons.push(orderReason(winner, route));
    return { route: route.id, matched: false, reasons };
  });
}

/** Every predicate the route fails, not just the first, so one dry run shows all that must change. */
export function failedPredicates(route: CompiledRoute, request: ComparedRequest): string[] {
  const { settings } = route;
  const reasons: string[] = [];
  if (!route.matchPath(request.path)) {
    reasons.push(
      settings.path !== null
        ? `path: ${settings.path} does not match ${request.path}`
        : `pathRegex: ${settings.pathRegex} does not match ${request.path}`,
    );
  }
  if (!route.allowsMethod(request.method)) {
    reasons.push(`method: ${request.method} not in ${route.allowedMethods.join(', ')}`);
  }
  if (!route.matchesHost(request.host)) {
    reasons.push(`host: ${settings.host} does not match ${request.host === '' ? '(no host)' : request.host}`);
  }
  for (const [name, expected] of route.failedHeaders(request.headers)) {
    const actual = request.headers[name];
    const got = actual === undefined ? 'absent' : `got ${JSON.stringify(actual)}`;
    reasons.push(`header ${name}: expected ${JSON.stringify(expected)}, ${got}`);
  }
  return reasons;
}

/** Why a route that passes every predicate lost: the table tried the winner first. */
function orderReason(winner: CompiledRoute, loser: CompiledRoute): string {
  if (loser.pattern === null) {
    return winner.pattern !== null
      ? `order: regex routes are tried after path routes; ${winner.id} matched first`
      : `order: regex routes are tried in file order; ${winner.id} comes first`;
  }
  // A path route that passes every predicate never loses to a regex route, so the winner has a pattern.
  return winner.pattern !== null && compareSpecificity(winner.pattern, loser.pattern) < 0
    ? `specificity: matches, but ${winner.id} is more specific`
    : `order: matches equally, but ${winner.id} comes first in the file`;
}
