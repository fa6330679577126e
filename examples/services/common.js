'use strict';
/*
 * Shared plumbing for the example upstream services: port from argv or env, JSON replies,
 * a clear message when the port is taken, and a clean stop on SIGTERM / SIGINT.
 * Plain node:http, no dependencies.
 */
const http = require('node:http');

/** The port: first CLI argument, then $PORT, then the service's default. */
function portFrom(defaultPort) {
  const raw = process.argv[2] ?? process.env.PORT ?? String(defaultPort);
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`invalid port "${raw}": pass a whole number from 0 to 65535 as the first argument or in PORT\n`);
    process.exit(1);
  }
  return port;
}

function sendJson(res, status, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** What the service saw: handy to check rewrites and X-Forwarded-* headers through the gateway. */
function seen(name, port, req) {
  const h = req.headers;
  return {
    service: name,
    port,
    method: req.method,
    url: req.url,
    host: h.host,
    forwarded: {
      for: h['x-forwarded-for'],
      proto: h['x-forwarded-proto'],
      host: h['x-forwarded-host'],
    },
  };
}

/** Splits `/a/b?x=1` into its path segments and query. */
function parseUrl(req) {
  const url = new URL(req.url ?? '/', 'http://upstream.local');
  return { segments: url.pathname.split('/').slice(1), query: url.searchParams, pathname: url.pathname };
}

/**
 * Starts `handler` on 127.0.0.1 (or $HOST) and the port from portFrom(). Prints one line when
 * listening and, when started by examples/demo.js, tells it over IPC.
 */
function startService(name, defaultPort, handler) {
  const port = portFrom(defaultPort);
  const host = process.env.HOST || '127.0.0.1';
  const server = http.createServer((req, res) => {
    try {
      handler(req, res, port);
    } catch (error) {
      sendJson(res, 500, { error: 'internal error', detail: String(error) });
    }
  });
  server.keepAliveTimeout = 65_000;
  server.on('error', (error) => {
    if (error.code === 'EADDRINUSE') {
      process.stderr.write(`${name}: port ${port} is already in use on ${host}; stop what uses it or pass another port\n`);
    } else {
      process.stderr.write(`${name}: cannot listen on ${host}:${port}: ${error.message}\n`);
    }
    process.exit(1);
  });
  server.listen(port, host, () => {
    const actual = server.address().port;
    process.stdout.write(`${name} service listening on http://${host}:${actual}\n`);
    if (process.send) process.send({ type: 'listening', name, port: actual });
  });

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Started by the demo with an IPC channel: go away with it, even if it was killed outright.
  if (process.send) process.once('disconnect', stop);
  return server;
}

module.exports = { startService, sendJson, seen, parseUrl };
