const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * Normalises a request path the way the route table sees it (RFC 3986, section 6.2.2): percent-encoded
 * unreserved characters are decoded (so `%2e%2e` is `..`), other escapes are upper-cased,
 * duplicate slashes are merged, and `.` / `..` segments are resolved. The result is what the
 * routes match and what is sent upstream, so no request reaches a route it does not match as
 * written.
 */
export function normalisePath(rawPath: string): string {
  let path = rawPath.includes('%') ? normaliseEscapes(rawPath) : rawPath;
  if (!path.startsWith('/')) path = `/${path}`;
  if (path.includes('//')) path = path.replace(/\/{2,}/g, '/');
  if (path.includes('/.')) path = removeDotSegments(path);
  return path;
}

/**
 * One pass over every `%`: a valid escape of an unreserved character is decoded, any other
 * escape upper-cased, and a stray `%` (not two hex digits after it) becomes `%25`. Without that
 * last rule `%%32e` would decode to `%2e`, an escape no pass ever looked at, which an upstream
 * then reads as a `.` segment.
 */
function normaliseEscapes(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})?/g, (_match, hex: string | undefined) => {
    if (hex === undefined) return '%25';
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

function removeDotSegments(path: string): string {
  const input = path.split('/');
  const output: string[] = [];
  for (let i = 1; i < input.length; i++) {
    const segment = input[i];
    const last = i === input.length - 1;
    if (segment === '.') {
      if (last) output.push('');
    } else if (segment === '..') {
      output.pop();
      if (last) output.push('');
    } else {
      output.push(segment);
    }
  }
  return `/${output.join('/')}`;
}
