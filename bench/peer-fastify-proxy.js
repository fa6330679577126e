'use strict';
/*
 * The Node peer: fastify 5 + @fastify/http-proxy 11 (undici via @fastify/reply-from), no
 * logging, proxying every path to the upstream given in BENCH_UPSTREAM. Prints
 * `{"ready":true,"port":<n>}` on stdout once listening on 127.0.0.1.
 */
require('./lib/orphan-guard');
const fastify = require('fastify');
const proxy = require('@fastify/http-proxy');

async function main() {
  const upstream = process.env.BENCH_UPSTREAM;
  if (!upstream) throw new Error('BENCH_UPSTREAM is not set');
  const app = fastify({ logger: false });
  await app.register(proxy, { upstream, prefix: '/', http2: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${JSON.stringify({ ready: true, port: app.server.address().port })}\n`);
  const stop = () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error) => {
  process.stderr.write(`peer start-up failed: ${error.stack || error}\n`);
  process.exit(1);
});
