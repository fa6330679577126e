import type { PathEscapedSlashes } from '../config/gateway-config.types';

const ESCAPED_SLASH = /%2F|%5C/i;
/** A dot segment followed by a path-parameter `;`, plain or escaped (Tomcat and Spring read `..;` as `..`). */
const DOT_SEGMENT_WITH_PARAMS = /(^|\/)\.\.?(;|%3B)/i;

/**
 * Why a normalised path must not be routed, or null. Path separators in disguise let a path
 * match one route as written and reach another once an upstream decodes it (Tomcat, Spring and
 * IIS do): `\` (not a URL character at all; IIS reads it as `/`), a dot segment hiding behind
 * `;`, and `%2F` / `%5C`. Escaped slashes follow `server.pathEscapedSlashes`, like Envoy's
 * `path_with_escaped_slashes_action`: `reject` refuses them; `keep` passes them on for APIs
 * that put `%2F` inside a segment, but never one that hides a `.` or `..` segment.
 */
export function pathDisguise(path: string, escapedSlashes: PathEscapedSlashes): string | null {
  if (path.includes('\\')) return 'a backslash in the path';
  if ((path.includes(';') || path.includes('%')) && DOT_SEGMENT_WITH_PARAMS.test(path)) return 'a dot segment with parameters (..;) in the path';
  if (!path.includes('%') || !ESCAPED_SLASH.test(path)) return null;
  if (escapedSlashes === 'reject') return 'an encoded slash (%2F or %5C) in the path (server.pathEscapedSlashes: reject)';
  for (const segment of path.split('/')) {
    if (!ESCAPED_SLASH.test(segment)) continue;
    for (const part of segment.split(/%2F|%5C/i)) {
      if (part === '.' || part === '..' || DOT_SEGMENT_WITH_PARAMS.test(part)) return 'a dot segment hidden by an encoded slash in the path';
    }
  }
  return null;
}

/**
 * Why a request must not be routed, or null: a `#` anywhere in the target as received, a path
 * whose escapes do not decode, then the path's own disguises (pathDisguise). A fragment never belongs in a request target (RFC
 * 9112, section 3.2) and Node lets it through; an upstream that cuts the path there would serve another
 * path than the one matched (Envoy refuses it too). It is looked for before normalisation,
 * because a `..` after a `#` removes it from the normalised path.
 */
export function targetDisguise(target: string, normalisedPath: string, escapedSlashes: PathEscapedSlashes): string | null {
  if (target.includes('#')) return 'a fragment (#) in the request target';
  if (target.includes('%') && !decodesToUtf8(pathOf(target))) return 'a malformed %-escape, or escaped bytes that are not UTF-8, in the path';
  return pathDisguise(normalisedPath, escapedSlashes);
}

function pathOf(target: string): string {
  const queryAt = target.indexOf('?');
  return queryAt === -1 ? target : target.slice(0, queryAt);
}

/** False for a `%` without two hex digits after it, or escapes that are not UTF-8 (`%ff`, the overlong `%c0%ae`). */
function decodesToUtf8(path: string): boolean {
  try {
    decodeURI(path);
    return true;
  } catch {
    return false;
  }
}
