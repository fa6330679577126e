import type { PathEscapedSlashes } from '../config/gateway-config.types';

const ESCAPED_SLASH = /%2F|%5C/i;
/** A dot segment followed by a path-parameter `;`, plain or escaped (Tomcat and Spring read `..;` as `..`). */
const DOT_SEGMENT_WITH_PARAMS = /(^|\/)\.\.?(;|%3B)/i;

/**
 * Why a normalised path must not be routed, or null. Path separators in disguise let a path
 * match one route as written and reach another once an upstream decodes it (Tomcat, Spring and
 * IIS do): `\` (not a URL character at all; IIS reads it as `/`), a `#` (whatever follows it is
 * not part of the path to an upstream that strips fragments), a dot segment hiding behind
 * `;`, and `%2F` / `%5C`. Escaped slashes follow `server.pathEscapedSlashes`, like Envoy's
 * `path_with_escaped_slashes_action`: `reject` refuses them; `keep` passes them on for APIs
 * that put `%2F` inside a segment, but never one that hides a `.` or `..` segment.
 */
export function pathDisguise(path: string, escapedSlashes: PathEscapedSlashes): string | null {
  if (path.includes('\\')) return 'a backslash in the path';
  // A fragment never belongs in a request target (RFC 9112 §3.2); Node lets it through, and an
  // upstream that cuts the path there would route a path other than the one matched (Envoy
  // refuses it too).
  if (path.includes('#')) return 'a fragment (#) in the request target';
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
