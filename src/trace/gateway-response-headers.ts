import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext } from './request-context';

/**
 * Puts the gateway's own headers into the header object a response is written with: its
 * X-Request-Id, and what a policy added (RateLimit-*). Every writer of a proxied request's
 * response calls this (the upstream's response, an error, a plugin's own answer), never
 * `res.setHeader` beforehand: Node then writes the object as it is instead of merging it header by
 * header into headers set earlier, and the gateway's X-Request-Id replaces an upstream's rather
 * than the other way round. Writers apply it after the upstream's headers and before the route's
 * plugins, so a plugin still has the last word.
 */
export function addGatewayHeaders<T extends OutgoingHttpHeaders>(headers: T, context: RequestContext | undefined): T {
  if (context === undefined) return headers;
  (headers as OutgoingHttpHeaders)['x-request-id'] = context.requestId;
  const added = context.responseHeaders;
  if (added !== null) {
    for (const name in added) (headers as OutgoingHttpHeaders)[name] = added[name];
  }
  return headers;
}
