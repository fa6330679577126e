/**
 * The parts of undici the data plane uses, each required from its own module rather than through
 * undici's index, which also loads fetch, WebSocket, EventSource, the HTTP cache, the proxy
 * agents and the mock agent: about 3.5 MiB of heap the gateway never uses, and every full
 * garbage collection marks the whole heap again (docs/performance.md, "Streaming and the garbage
 * collector"). These paths are undici 7's own files (package.json pins the major), the same
 * modules its index re-exports, so the classes are the same ones (`instanceof` on its errors
 * holds for errors raised anywhere in undici). If an upgrade moves one, start-up fails loudly.
 */
export { default as Pool } from 'undici/lib/dispatcher/pool';
export { default as Client } from 'undici/lib/dispatcher/client';
export { default as errors } from 'undici/lib/core/errors';
export { parseHeaders } from 'undici/lib/core/util';
