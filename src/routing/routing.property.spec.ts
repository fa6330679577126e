/**
 * Property-based checks of the routing pipeline exactly as RouteMatchGuard runs it:
 * normalisePath → targetDisguise(…, 'reject') → RouteTable.match → match.upstreamPath.
 *
 * Deterministic: a fixed seed and fixed run counts (fc.configureGlobal below). To replay a
 * failure, fast-check prints the seed and the path of the counterexample; pass them to
 * fc.assert as `{ seed, path }`.
 */
import fc from 'fast-check';
import { routeTable, type RouteInput } from '../../test/support/route-settings';
import type { CompiledRoute } from './compiled-route';
import { targetDisguise } from './path-disguise';
import { normalisePath } from './path-normaliser';
import { compareSpecificity } from './path-pattern';
import type { RouteMatch, RouteTable } from './route-table';

const SEED = 20_240_611;
fc.configureGlobal({ seed: SEED, numRuns: 1_000 });

const MANAGEMENT_PREFIX = '/_gateway';
/** Route words: a small alphabet, so random requests hit random routes often. */
const WORDS = ['api', 'users', 'me', 'admin', 'r'] as const;
const METHODS = ['GET', 'POST'] as const;
const HOSTS = ['a.example', 'b.example'] as const;

// ---------------------------------------------------------------------------------------------
// What reaches the guard
// ---------------------------------------------------------------------------------------------

/**
 * The check Fastify's router (find-my-way 9, lib/url-sanitizer.js safeDecodeURI) made before
 * proxied requests went to the pipeline without it, and which the guard now makes itself
 * (targetDisguise): the URL is decodeURI()d up to the first `?` or `#` when that part holds an
 * escape, and a URIError (a `%` not followed by two hex digits, or escapes that are not UTF-8)
 * is a 400. Kept as a separate model so the properties below still hold against it.
 */
function fastifyRouterAccepts(url: string): boolean {
  let end = url.length;
  for (let i = 1; i < url.length; i++) {
    if (url[i] === '?' || url[i] === '#') {
      end = i;
      break;
    }
  }
  try {
    decodeURI(url.slice(0, end));
    return true;
  } catch {
    return false;
  }
}

/** The guard's steps, as in RouteMatchGuard.canActivate. */
type GuardOutcome =
  | { readonly kind: 'refused'; readonly rawPath: string; readonly path: string; readonly reason: string }
  | { readonly kind: 'matched'; readonly rawPath: string; readonly path: string; readonly match: RouteMatch };

function runGuard(table: RouteTable, url: string, method: string, host: string): GuardOutcome {
  const queryAt = url.indexOf('?');
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const path = normalisePath(rawPath);
  const reason = targetDisguise(url, path, 'reject');
  if (reason !== null) return { kind: 'refused', rawPath, path, reason };
  return { kind: 'matched', rawPath, path, match: table.match({ method, path, host, headers: { host } }) };
}

// ---------------------------------------------------------------------------------------------
// Helpers for the assertions
// ---------------------------------------------------------------------------------------------

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** A segment as an upstream that decodes percent-encoded unreserved characters reads it. */
function asUpstreamReads(segment: string): string {
  return segment.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : escape;
  });
}

function segmentsOf(path: string): string[] {
  return path.split('/').slice(1);
}

function isDotSegment(segment: string): boolean {
  return segment === '.' || segment === '..';
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

/** The route docs/routing.md's rules pick (oracle): path routes by specificity then file order, then regex routes in file order. */
function expectedRoute(table: RouteTable, path: string, method: string, host: string): CompiledRoute | null {
  if (path === MANAGEMENT_PREFIX || path.startsWith(`${MANAGEMENT_PREFIX}/`)) return null;
  const candidates = table.routes
    .map((route, index) => ({ route, index }))
    .filter(({ route }) => route.matchPath(path) && route.matchesRequest(host, { host }) && route.allowsMethod(method));
  const pathRoutes = candidates.filter(({ route }) => route.pattern !== null);
  if (pathRoutes.length > 0) {
    pathRoutes.sort((a, b) => compareSpecificity(a.route.pattern!, b.route.pattern!) || a.index - b.index);
    return pathRoutes[0].route;
  }
  return candidates[0]?.route ?? null;
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const word = fc.constantFrom(...WORDS);

/** A word with some characters percent-encoded, hex digits in either case (`me` → `%6De`). */
const encodedWord = fc
  .tuple(word, fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), fc.boolean())
  .map(([w, encode, upper]) =>
    [...w]
      .map((c, i) => {
        if (!encode[i]) return c;
        const hex = c.charCodeAt(0).toString(16);
        return `%${upper ? hex.toUpperCase() : hex}`;
      })
      .join(''),
  );

const printableAscii = fc.string({
  unit: fc.mapToConstant({ num: 95, build: (v) => String.fromCharCode(0x20 + v) }),
  maxLength: 6,
});
/** Characters that make escapes, dots and separators: `%`, hex digits, `.`, `/`, `;`, `\`. */
const percentSoup = fc.string({ unit: fc.constantFrom('%', '2', 'e', 'E', 'f', 'F', '5', 'c', '3', 'b', '0', '.', '/', ';', '\\'), maxLength: 8 });
const unicode = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 });

/** One raw segment of a request path (may itself hold `/`). */
const rawSegment = fc.oneof(
  { weight: 8, arbitrary: word },
  { weight: 2, arbitrary: fc.constantFrom('.', '..') },
  { weight: 2, arbitrary: fc.constantFrom('%2e', '%2E', '%2e%2e', '%2E%2e', '.%2e', '%2E.') },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: encodedWord },
  { weight: 1, arbitrary: fc.constantFrom('%41', '%7e', '%7E', '%5f', '%2D', '%30') },
  {
    weight: 2,
    arbitrary: fc
      .tuple(word, fc.constantFrom('%2f', '%2F', '%5c', '%5C', '%00', '%3b', '%3B', '%25', '%20', '%C3%A9'), word)
      .map(([a, escape, b]) => `${a}${escape}${b}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.oneof(word, fc.constantFrom('.', '..', '%2e', '%2e%2e')), fc.constantFrom(';', '%3b', '%3B'), fc.constantFrom('', 'x', 'jsessionid=1'))
      .map(([a, semicolon, params]) => `${a}${semicolon}${params}`),
  },
  // URL delimiters Node's parser accepts in a request-target (`?` starts the query; `#` is not
  // split off by anyone but Fastify's router), and stray `%` signs that do not start an escape.
  { weight: 1, arbitrary: fc.constantFrom('#', 'x#', '?', 'x?y') },
  { weight: 1, arbitrary: fc.constantFrom('%%32e', '%2%65', '%%32%65%%32%65', '%', '100%', '%zz') },
  { weight: 1, arbitrary: unicode },
  { weight: 1, arbitrary: printableAscii },
  { weight: 1, arbitrary: percentSoup },
  { weight: 1, arbitrary: fc.constant(MANAGEMENT_PREFIX.slice(1)) },
);

/**
 * A request target as a client sends it: `/` + raw segments, maybe a trailing `/`, maybe a
 * `#` and more raw segments (Node's parser accepts a `#` in a request-target), maybe a query.
 */
const requestUrl = fc
  .record({
    segments: fc.array(rawSegment, { maxLength: 6 }),
    trailingSlash: fc.boolean(),
    fragment: fc.option(fc.array(rawSegment, { maxLength: 3 }), { nil: undefined, freq: 4 }),
    query: fc.option(printableAscii, { nil: undefined }),
  })
  .map(({ segments, trailingSlash, fragment, query }) => {
    let url = `/${segments.join('/')}${trailingSlash && segments.length > 0 ? '/' : ''}`;
    if (fragment !== undefined) url += `#/${fragment.join('/')}`;
    return query === undefined ? url : `${url}?${query}`;
  });

/** Mostly route words, so that requests often meet the routes (and their rivals) head on. */
const wordyUrl = fc
  .tuple(fc.array(fc.oneof({ weight: 12, arbitrary: word }, { weight: 1, arbitrary: rawSegment }), { maxLength: 4 }), fc.boolean())
  .map(([segments, trailingSlash]) => `/${segments.join('/')}${trailingSlash && segments.length > 0 ? '/' : ''}`);

type RouteSpec = Omit<RouteInput, 'id'>;

/** A path route over WORDS: static, `:param` and `*` tail segments, maybe a rewrite or a stripPrefix. */
const pathRoute: fc.Arbitrary<RouteSpec> = fc
  .record({
    segments: fc.array(fc.oneof({ weight: 3, arbitrary: word }, { weight: 1, arbitrary: fc.constant(':') }), { maxLength: 3 }),
    end: fc.constantFrom('none', 'tail', 'slash'),
    upstreamMode: fc.constantFrom('as-is', 'rewrite', 'stripPrefix'),
    rewriteWord: fc.constantFrom('v1', 'up'),
    reverseParams: fc.boolean(),
    stripDepth: fc.nat({ max: 3 }),
    methods: fc.option(fc.subarray([...METHODS], { minLength: 1 }), { nil: undefined, freq: 3 }),
    host: fc.option(fc.constantFrom(...HOSTS), { nil: undefined, freq: 3 }),
  })
  .map(({ segments, end, upstreamMode, rewriteWord, reverseParams, stripDepth, methods, host }) => {
    const params: string[] = [];
    const parts = segments.map((s) => (s === ':' ? `:${params[params.push(`p${params.length}`) - 1]}` : s));
    if (end === 'tail') parts.push('*');
    if (end === 'slash' && parts.length > 0) parts.push('');
    const route: { -readonly [K in keyof RouteSpec]: RouteSpec[K] } = { path: `/${parts.join('/')}` };
    if (upstreamMode === 'rewrite') {
      const ordered = reverseParams ? [...params].reverse() : params;
      route.rewrite = `/${[rewriteWord, ...ordered.map((p) => `:${p}`), ...(end === 'tail' ? ['*'] : [])].join('/')}`;
    } else if (upstreamMode === 'stripPrefix') {
      const firstNonStatic = parts.findIndex((p) => p.startsWith(':') || p === '*' || p === '');
      const leadingStatics = firstNonStatic === -1 ? parts : parts.slice(0, firstNonStatic);
      const depth = Math.min(stripDepth, leadingStatics.length);
      if (depth > 0) route.stripPrefix = `/${leadingStatics.slice(0, depth).join('/')}`;
    }
    if (methods !== undefined) route.methods = methods;
    if (host !== undefined) route.host = host;
    return route;
  });

const regexRoute: fc.Arbitrary<RouteSpec> = fc.constantFrom<RouteSpec>(
  { pathRegex: '^/r/[a-z]+$' },
  { pathRegex: '^/api/(users|admin)/([^/]+)$', rewrite: '/v2/$2' },
  { pathRegex: '^/r/(.*)$', rewrite: '/$1' },
  { pathRegex: 'me/?$', methods: ['GET'] },
);

/** A route table in file order; ids are `r<index>`. */
const routeInputs: fc.Arbitrary<RouteInput[]> = fc
  .tuple(fc.array(pathRoute, { minLength: 1, maxLength: 6 }), fc.array(regexRoute, { maxLength: 2 }), fc.array(fc.nat(), { maxLength: 8 }))
  .map(([paths, regexes, order]) => {
    // Interleave the regex routes among the path routes: file order must not matter between kinds.
    const all = [...paths];
    regexes.forEach((r, i) => all.splice((order[i] ?? 0) % (all.length + 1), 0, r));
    return all.map((r, i) => ({ id: `r${i}`, ...r }));
  });

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('routing properties (fast-check, fixed seed)', () => {
  const request = fc.record({
    url: fc.oneof(requestUrl, wordyUrl).filter(fastifyRouterAccepts),
    routes: routeInputs,
    method: fc.constantFrom(...METHODS),
    host: fc.constantFrom(...HOSTS),
  });

  // This property found "/#/%%32e" forwarded as "/#/%2e" (a `.` segment once an upstream decodes
  // it): a stray `%` next to an escape minted a new one, and a `#` let it past Fastify's own check.
  // Fixed: a stray `%` normalises to `%25` (path-normaliser.ts), and `#` is refused (path-disguise.ts).
  it('1. a request only reaches a route whose pattern matches the normalised path, and is forwarded without dot segments, escaped slashes or NUL', () => {
    fc.assert(
      fc.property(request, ({ url, routes, method, host }) => {
        const table = routeTable(routes, MANAGEMENT_PREFIX);
        const outcome = runGuard(table, url, method, host);
        const { rawPath, path } = outcome;

        // The normalised path: absolute, no `//`, no `.` / `..` segment, and no separator, `\` or
        // NUL that the raw path did not have (decoding never creates one).
        expect(path.startsWith('/')).toBe(true);
        expect(path).not.toContain('//');
        expect(segmentsOf(path).filter(isDotSegment)).toEqual([]);
        expect(count(path, '/')).toBeLessThanOrEqual(count(rawPath, '/'));
        expect(count(path, '\\')).toBeLessThanOrEqual(count(rawPath, '\\'));
        expect(count(path, '\0')).toBeLessThanOrEqual(count(rawPath, '\0'));
        if (outcome.kind === 'refused') return;

        const { match } = outcome;
        const expected = expectedRoute(table, path, method, host);
        if (match.kind !== 'route') {
          // Complete: nothing docs/routing.md's rules would pick was missed.
          expect(expected?.id ?? null).toBeNull();
          return;
        }
        const { route, upstreamPath } = match;
        // The route's own predicates hold for the normalised path, and it is the one the rules pick.
        expect(route.matchPath(path)).toBe(true);
        expect(route.allowsMethod(method) && route.matchesRequest(host, { host })).toBe(true);
        expect(route.id).toBe(expected?.id);

        // What is forwarded: absolute, no `.` / `..` segment (as written, or as an upstream that
        // decodes unreserved escapes reads it), no `%2F` / `%5C` (pathEscapedSlashes: reject), no
        // `\`, no NUL.
        expect(upstreamPath.startsWith('/')).toBe(true);
        expect(segmentsOf(upstreamPath).filter((s) => isDotSegment(s) || isDotSegment(asUpstreamReads(s)))).toEqual([]);
        expect(upstreamPath).not.toMatch(/%2F|%5C/i);
        expect(upstreamPath).not.toContain('\\');
        expect(upstreamPath).not.toContain('\0');
        const { rewrite, stripPrefix } = route.settings;
        if (rewrite === null && stripPrefix === null) expect(upstreamPath).toBe(path);
        if (stripPrefix !== null && path === stripPrefix) expect(upstreamPath).toBe('/');
        if (stripPrefix !== null && path.startsWith(`${stripPrefix}/`)) expect(upstreamPath).toBe(path.slice(stripPrefix.length));
      }),
      { numRuns: 3_000 },
    );
  });

  // A `#` would end the path for most upstreams (WHATWG URL, Express): `/admin#x` could match `/*`
  // and serve `/admin`. The gateway refuses it (path-disguise.ts); this property keeps it so.
  it('1b. the forwarded path holds no # (an upstream would read the path as ending there)', () => {
    fc.assert(
      fc.property(request, ({ url, routes, method, host }) => {
        const outcome = runGuard(routeTable(routes, MANAGEMENT_PREFIX), url, method, host);
        if (outcome.kind === 'matched' && outcome.match.kind === 'route') expect(outcome.match.upstreamPath).not.toContain('#');
      }),
      { numRuns: 3_000 },
    );
  });

  // Found "/#/%%32e" normalising to "/#/%2e", then "/#/"; fixed with the stray-`%` rule.
  it('2. normalisation is idempotent on the paths the guard sees', () => {
    const rawPath = requestUrl.filter(fastifyRouterAccepts).map((url) => (url.includes('?') ? url.slice(0, url.indexOf('?')) : url));
    fc.assert(
      fc.property(rawPath, (raw) => {
        const once = normalisePath(raw);
        expect(normalisePath(once)).toBe(once);
      }),
      { numRuns: 3_000 },
    );
  });

  describe('3. specificity', () => {
    /**
     * A raw spelling of `path` that normalises to it: segments maybe percent-encoded, preceded
     * by `./` or `x/../`, slashes doubled.
     */
    function disguisedSpelling(path: string): fc.Arbitrary<string> {
      const segments = segmentsOf(path);
      const spelled = segments.map((segment) =>
        fc
          .tuple(fc.constantFrom('', './', 'x/../', '%2e/', 'x/%2E%2e/'), fc.boolean(), fc.boolean())
          .map(([detour, encode, doubled]) => {
            const body = encode ? [...segment].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('') : segment;
            return `${doubled ? '/' : ''}${detour}${body}`;
          }),
      );
      return fc.tuple(...spelled).map((parts) => `/${parts.join('/')}`);
    }

    const specificityCase = fc
      .record({
        prefix: fc.array(word, { maxLength: 2 }),
        literal: word,
        after: fc.array(word, { maxLength: 1 }),
        extras: fc.array(pathRoute, { maxLength: 3 }),
      })
      .chain(({ prefix, literal, after, extras }) => {
        const base = prefix.map((w) => `/${w}`).join('');
        const staticPath = `${base}/${literal}${after.map((w) => `/${w}`).join('')}`;
        const trio: RouteSpec[] = [
          { path: staticPath },
          { path: `${base}/:id${after.map((w) => `/${w}`).join('')}` },
          { path: `${base}/*` },
        ];
        return fc.record({
          staticPath: fc.constant(staticPath),
          routes: fc.shuffledSubarray([...trio, ...extras], { minLength: trio.length + extras.length }).map((rs) => rs.map((r, i) => ({ id: `r${i}`, ...r }))),
          raw: disguisedSpelling(staticPath),
          method: fc.constantFrom(...METHODS),
        });
      });

    it('a path matching the static route reaches it, whatever the file order of the :param and * routes', () => {
      fc.assert(
        fc.property(specificityCase, ({ staticPath, routes, raw, method }) => {
          const table = routeTable(routes, MANAGEMENT_PREFIX);
          // The static route; an extra route with the same pattern whose predicates hold, earlier in
          // the file, legitimately wins instead (same pattern: file order).
          const staticId = routes.find(
            (r) => r.path === staticPath && (r.methods?.includes(method) ?? true) && (r.host ?? HOSTS[0]) === HOSTS[0],
          )!.id;
          for (const url of [staticPath, raw]) {
            const outcome = runGuard(table, url, method, HOSTS[0]);
            expect(outcome.path).toBe(staticPath);
            expect(outcome.kind === 'matched' && outcome.match.kind === 'route' ? outcome.match.route.id : outcome.kind).toBe(
              staticId,
            );
          }
        }),
        { numRuns: 1_000 },
      );
    });
  });
});
