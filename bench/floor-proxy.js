'use strict';
/*
 * The floor a Node proxy on undici can reach: a bare `node:http` server that hands each request
 * to undici's `Pool.dispatch()` and writes the answer straight back, with no routing, ids,
 * metrics, policies or error pages. Not a product: a yardstick for "what does the gateway itself
 * cost", run like a gateway build by bench/ab-builds.js and bench/profile.js
 * (`node bench/ab-builds.js bench/floor-proxy.js dist/main.js`). It reads the upstream from the
 * first target of the config file in GATEWAY_CONFIG, listens on 127.0.0.1 and an ephemeral port,
 * and prints the port as the gateway does. Hop-by-hop headers are dropped both ways.
 */
const fs = require('node:fs');
const http = require('node:http');
const { Pool } = require('undici');

const config = JSON.parse(fs.readFileSync(process.env.GATEWAY_CONFIG, 'utf8'));
const upstream = Object.values(config.upstreams)[0].targets[0];
const pool = new Pool(upstream, { connections: 100, pipelining: 1 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

const server = http.createServer((req, res) => {
  const headers = {};
  for (const name in req.headers) if (!HOP_BY_HOP.has(name)) headers[name] = req.headers[name];
  let resume = null;
  let listening = false;
  pool.dispatch(
    { method: req.method, path: req.url, headers },
    {
      onConnect() {},
      onHeaders(status, raw, resumeUpstream) {
        resume = resumeUpstream;
        const out = {};
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i].toString('latin1').toLowerCase();
          if (!HOP_BY_HOP.has(name)) out[name] = raw[i + 1].toString('latin1');
        }
        res.writeHead(status, out);
        return true;
      },
      onData(chunk) {
        if (res.write(chunk)) return true;
        // Backpressure: the upstream pauses until the client's socket drains.
        if (!listening) res.on('drain', resume);
        listening = true;
        return false;
      },
      onComplete: () => res.end(),
      onError() {
        if (res.headersSent) res.destroy();
        else res.writeHead(502).end();
      },
    },
  );
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'gateway listening', port: server.address().port })));
// bench/profile.js stops it with SIGTERM and needs a normal exit for --cpu-prof to write the profile.
process.on('SIGTERM', () => process.exit(0));
