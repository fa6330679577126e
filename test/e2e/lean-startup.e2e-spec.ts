import { resolve } from 'node:path';
import { call } from '../support/http';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { echoHandler, startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * The data plane loads only what it uses (docs/performance.md "Streaming and the garbage
 * collector"): undici's dispatcher without its fetch, WebSocket and cache; class-validator's
 * decorators without its index (and libphonenumber-js's metadata); no axios until an active health
 * check needs it; no ioredis without REDIS_URL. Every full GC marks whatever the heap holds, so
 * each of these is paid again on every collection of a streaming gateway.
 */

const PRELOAD = resolve(__dirname, '../support/loaded-modules-on-exit.js');

/** Files of these packages (or parts of them) the gateway must not load unless asked to. */
const NOT_LOADED_AT_START = {
  axios: /\/node_modules\/axios\//,
  '@nestjs/axios': /\/node_modules\/@nestjs\/axios\//,
  ioredis: /\/node_modules\/ioredis\//,
  'undici index': /\/node_modules\/undici\/index\.js$/,
  'undici fetch and WebSocket': /\/node_modules\/undici\/lib\/web\//,
  'class-validator index': /\/node_modules\/class-validator\/cjs\/index\.js$/,
  'libphonenumber-js': /\/node_modules\/libphonenumber-js\//,
};

async function loadedModulesAtExit(gateway: GatewayProcess): Promise<string[]> {
  const exit = await gateway.stop();
  const line = /^loaded-modules (.*)$/m.exec(exit.stderr);
  if (line === null) throw new Error(`no "loaded-modules" line on the gateway's stderr:\n${exit.stderr}`);
  return JSON.parse(line[1]) as string[];
}

function loadedOf(files: string[], pattern: RegExp): string[] {
  return files.filter((file) => pattern.test(file));
}

describe('lean start-up: the gateway loads only what its config uses', () => {
  let upstream: UpstreamFixture;
  let gateway: GatewayProcess | undefined;
  let healthProbed: Promise<void>;

  beforeAll(async () => {
    let probed: () => void = () => undefined;
    healthProbed = new Promise((done) => (probed = done));
    upstream = await startUpstream((req, res) => {
      if (req.url === '/healthz') {
        res.end('ok');
        probed();
      } else echoHandler(req, res);
    });
  });

  afterEach(async () => {
    await gateway?.kill();
    gateway = undefined;
  });

  afterAll(async () => {
    await upstream.close();
  });

  it('proxies a request without loading axios, ioredis, undici fetch or class-validator index', async () => {
    gateway = await startGatewayProcess({
      config: { upstreams: { echo: { targets: [upstream.url] } }, routes: [{ id: 'all', path: '/api/*', upstream: 'echo' }] },
      env: { NODE_OPTIONS: `--require ${PRELOAD}` },
    });
    const res = await call(`${gateway.url}/api/users`);
    expect(res.status).toBe(200);
    const files = await loadedModulesAtExit(gateway);
    // The readout itself works: the data plane's own modules are listed.
    expect(loadedOf(files, /\/node_modules\/undici\/lib\/dispatcher\/pool\.js$/)).toHaveLength(1);
    for (const [name, pattern] of Object.entries(NOT_LOADED_AT_START)) {
      expect({ name, files: loadedOf(files, pattern) }).toEqual({ name, files: [] });
    }
  });

  it('loads axios once an active health check has probed', async () => {
    gateway = await startGatewayProcess({
      config: {
        upstreams: { echo: { targets: [upstream.url], healthCheck: { path: '/healthz', intervalMs: 1000, timeoutMs: 1000 } } },
        routes: [{ id: 'all', path: '/api/*', upstream: 'echo' }],
      },
      env: { NODE_OPTIONS: `--require ${PRELOAD}` },
    });
    await healthProbed;
    const files = await loadedModulesAtExit(gateway);
    expect(loadedOf(files, NOT_LOADED_AT_START.axios).length).toBeGreaterThan(0);
    expect(loadedOf(files, NOT_LOADED_AT_START['@nestjs/axios']).length).toBeGreaterThan(0);
  });
});
