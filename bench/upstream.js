'use strict';
/*
 * The benchmark upstream: node:http with keep-alive.
 *   any path            -> 200, a 1 KiB JSON body (Content-Length 1024)
 *   path containing /files/big -> 200, 10 MiB streamed in 64 KiB chunks with backpressure
 * Prints `{"ready":true,"port":<n>}` on stdout once listening on 127.0.0.1.
 */
require('./lib/orphan-guard');
const http = require('node:http');

const STREAM_BYTES = Number(process.env.BENCH_STREAM_BYTES || 10 * 1024 * 1024);
const CHUNK = Buffer.alloc(64 * 1024, 'x');

function jsonBody(size) {
  const head = '{"ok":true,"service":"bench-upstream","padding":"';
  const tail = '"}';
  return Buffer.from(head + 'x'.repeat(size - head.length - tail.length) + tail);
}
const BODY = jsonBody(1024);
const JSON_HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

function streamBody(res) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(STREAM_BYTES) });
  let left = STREAM_BYTES;
  const write = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      const more = res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
      if (left === 0) break;
      if (!more) {
        res.once('drain', write);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    left = 0;
  });
  write();
}

const server = http.createServer((req, res) => {
  req.resume();
  if (req.url.includes('/files/big')) {
    streamBody(res);
    return;
  }
  res.writeHead(200, JSON_HEADERS);
  res.end(BODY);
});
// Keep connections idle between cases without the proxies' pools racing a close.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ ready: true, port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
