/** One segment of a route path: a literal, a `:name` parameter, or the `*` tail wildcard. */
export type PatternSegment =
  | { readonly kind: 'static'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

export interface PathPattern {
  readonly segments: readonly PatternSegment[];
  readonly paramNames: readonly string[];
  readonly hasWildcard: boolean;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses `/api/users/:id/*`. Throws an Error whose message explains the problem; the
 * config validator turns it into a line naming the field.
 */
export function parsePathPattern(path: string): PathPattern {
  if (!path.startsWith('/')) throw new Error('must start with /');
  if (path.includes('?') || path.includes('#')) throw new Error('must not contain ? or #');
  const parts = path.slice(1).split('/');
  const segments: PatternSegment[] = [];
  const paramNames: string[] = [];
  parts.forEach((part, i) => {
    if (part === '*') {
      if (i !== parts.length - 1) throw new Error('* is only allowed as the last segment');
      segments.push({ kind: 'wildcard' });
    } else if (part.startsWith(':')) {
      const name = part.slice(1);
      if (!PARAM_NAME.test(name)) throw new Error(`":${name}" is not a valid parameter name`);
      if (paramNames.includes(name)) throw new Error(`parameter ":${name}" appears twice`);
      paramNames.push(name);
      segments.push({ kind: 'param', name });
    } else {
      if (part.includes('*')) throw new Error('* must be a whole segment');
      if (part === '.' || part === '..' || (part === '' && i !== parts.length - 1 && parts.length > 1)) {
        throw new Error('must be a normalised path (no empty, . or .. segments)');
      }
      segments.push({ kind: 'static', value: part });
    }
  });
  return { segments, paramNames, hasWildcard: segments.some((s) => s.kind === 'wildcard') };
}

/** The `:name` parameters and whether `*` appears in a rewrite template. */
export function templateReferences(template: string): { params: string[]; wildcard: boolean } {
  const params = [...template.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
  return { params, wildcard: template.split('/').includes('*') };
}

/**
 * Whether a normalised path matches, by the route table's rules: a `:param` never takes an
 * empty segment, and `*` also takes the bare prefix (`/files/*` matches `/files`). The table
 * walks its trie instead; this answers for one route, to explain a match.
 */
export function matchesPattern(pattern: PathPattern, path: string): boolean {
  const parts = path.slice(1).split('/');
  for (let i = 0; i < pattern.segments.length; i++) {
    const segment = pattern.segments[i];
    if (segment.kind === 'wildcard') return true;
    if (i >= parts.length) return false;
    if (segment.kind === 'static' ? parts[i] !== segment.value : parts[i] === '') return false;
  }
  return parts.length === pattern.segments.length;
}

const SPECIFICITY_RANK = { static: 0, param: 1, wildcard: 3 } as const;
/** Where a pattern has ended: the trie tries a node's own routes before the `*` routes on it. */
const ENDED_RANK = 2;

/**
 * Negative when `a` is more specific than `b` (the route table tries it first), 0 when equally
 * specific (file order decides). Meaningful for two patterns that match the same path: there a
 * static segment at index i can only meet the same literal, a `:param` or a `*`.
 */
export function compareSpecificity(a: PathPattern, b: PathPattern): number {
  const length = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const diff = specificityRank(a.segments[i]) - specificityRank(b.segments[i]);
    if (diff !== 0) return diff;
  }
  return 0;
}

function specificityRank(segment: PatternSegment | undefined): number {
  return segment === undefined ? ENDED_RANK : SPECIFICITY_RANK[segment.kind];
}
