'use strict';
/*
 * Example upstream "slow": answers after a delay, to try timeouts and slow-upstream isolation.
 *   GET /healthz           200 at once
 *   GET /anything?delay=ms answers 200 after `delay` ms (default 1000, at most 120000)
 * Usage: node examples/services/slow.js [port]   (default 3003, or $PORT)
 */
const { startService, sendJson, seen, parseUrl } = require('./common');

const MAX_DELAY_MS = 120_000;

startService('slow', 3003, (req, res, port) => {
  const { segments, query } = parseUrl(req);
  if (segments.length === 1 && segments[0] === 'healthz') {
    sendJson(res, 200, { status: 'ok' });
    return;
  }
  const requested = Number(query.get('delay') ?? 1000);
  if (!Number.isFinite(requested) || requested < 0) {
    sendJson(res, 400, { error: 'delay must be a number of milliseconds' });
    return;
  }
  const delayMs = Math.min(requested, MAX_DELAY_MS);
  const started = Date.now();
  const timer = setTimeout(() => {
    sendJson(res, 200, { delayedMs: Date.now() - started, upstream: seen('slow', port, req) });
  }, delayMs);
  // The gateway (or curl) gave up: do not answer into a closed socket.
  res.on('close', () => clearTimeout(timer));
  req.resume();
});
