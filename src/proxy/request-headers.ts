import type { IncomingHttpHeaders } from 'node:http';
import { hopByHopFilter } from './hop-by-hop';

export interface ForwardingContext {
  readonly clientIp: string;
  readonly protocol: 'http' | 'https';
  readonly trustProxy: boolean;
  readonly preserveHost: boolean;
}

/**
 * What a client may claim about itself or the way it came in, which upstreams (and their
 * frameworks) trust as if a proxy had set it. Without `trustProxy` nobody in front of the
 * gateway vouches for them, so they are dropped; X-Forwarded-For/-Proto/-Host are overwritten.
 */
const CLIENT_CLAIMS = new Set([
  // who the client is
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  // how and where it came in (Rack, Spring and others read these before X-Forwarded-Proto/-Host)
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'front-end-https',
  'x-url-scheme',
  'x-original-host',
  'x-host',
  // which path it asked for (Symfony, Zend and IIS route on these, past the gateway's route match)
  'x-original-url',
  'x-rewrite-url',
  'x-forwarded-uri',
]);

/**
 * The headers sent upstream (docs/routing.md "Proxying and headers"): hop-by-hop ones dropped, `X-Forwarded-*` set, Host
 * kept only with `preserveHost` (otherwise the client sets the target's). `Expect` is dropped
 * because Node already answered `100-continue` to the client.
 */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, ctx: ForwardingContext): Record<string, string | string[]> {
  const drop = hopByHopFilter(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || drop(name) || name === 'host' || name === 'expect') continue;
    if (!ctx.trustProxy && CLIENT_CLAIMS.has(name)) continue;
    out[name] = value;
  }
  const priorFor = incoming['x-forwarded-for'];
  out['x-forwarded-for'] =
    ctx.trustProxy && priorFor ? `${Array.isArray(priorFor) ? priorFor.join(', ') : priorFor}, ${ctx.clientIp}` : ctx.clientIp;
  const priorProto = first(incoming['x-forwarded-proto']);
  out['x-forwarded-proto'] = ctx.trustProxy && priorProto ? priorProto : ctx.protocol;
  const priorHost = first(incoming['x-forwarded-host']);
  const host = incoming.host;
  if (ctx.trustProxy && priorHost) out['x-forwarded-host'] = priorHost;
  else if (host) out['x-forwarded-host'] = host;
  else delete out['x-forwarded-host'];
  if (ctx.preserveHost && host) out.host = host;
  return out;
}

/** The upstream response headers to pass back: everything but hop-by-hop headers. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): Record<string, string | string[]> {
  const drop = hopByHopFilter(upstream.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value !== undefined && !drop(name)) out[name] = value;
  }
  return out;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
