/** RFC 9110, section 7.6.1 hop-by-hop headers, plus ones undici refuses to forward itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Header names to drop: the fixed list, `Proxy-*`, and every token the Connection header lists. */
export function hopByHopFilter(connection: string | string[] | undefined): (name: string) => boolean {
  // Most messages say just `keep-alive`, which the fixed list has: no Set to build.
  if (connection === undefined || (typeof connection === 'string' && connection.toLowerCase() === 'keep-alive')) return isFixedHopByHop;
  const listed = new Set(
    (Array.isArray(connection) ? connection.join(',') : connection)
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ''),
  );
  return (name) => isFixedHopByHop(name) || listed.has(name);
}

function isFixedHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-');
}
