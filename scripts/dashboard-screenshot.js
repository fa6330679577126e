'use strict';
/*
 * `npm run dashboard:screenshot [-- <out.png>]`: the dashboard under load, for docs/operations.md "Dashboard".
 * Starts three upstreams on 127.0.0.1 (fast, slow, one that goes down), the built gateway
 * (dist/main.js) in front of them, 30 s of traffic from this process, and Debian's Chromium
 * (playwright-core, no browser download; CHROMIUM_PATH to use another), then saves a screenshot
 * (default docs/images/dashboard.png). Everything stops by itself.
 */
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { Pool } = require('undici');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'images', 'dashboard.png'));
const TOKEN = 'screenshot-token-0123456789';
const LOAD_MS = 30_000;
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));

async function upstream(delayMs) {
  const server = http.createServer((req, res) => {
    req.resume();
    setTimeout(() => res.end('{"ok":true}'), typeof delayMs === 'function' ? delayMs() : delayMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

async function main() {
  if (!CHROMIUM) throw new Error('no Chromium found: apt-get install -y chromium, or set CHROMIUM_PATH');
  const users = await upstream(() => 2 + Math.random() * 8);
  const orders = await upstream(() => 20 + Math.random() * 180);
  const inventory = await upstream(5);
  const inventorySpare = await upstream(5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-shot-'));
  const config = {
    upstreams: {
      users: { targets: [users.url], concurrency: { limit: 64 } },
      orders: { targets: [orders.url], concurrency: { limit: 16, queue: 50 } },
      inventory: { targets: [inventory.url, inventorySpare.url], healthCheck: { path: '/healthz', intervalMs: 1000, unhealthyThreshold: 1 } },
    },
    routes: [
      { id: 'users', path: '/api/users/*', upstream: 'users', concurrency: { limit: 32 } },
      { id: 'orders', path: '/api/orders/*', upstream: 'orders', timeoutMs: 150, concurrency: { limit: 8, queue: 20 } },
      { id: 'inventory', path: '/api/inventory/*', upstream: 'inventory', rateLimit: { limit: 200, windowMs: 1000, key: 'route' } },
    ],
  };
  const configPath = path.join(dir, 'gateway.json');
  fs.writeFileSync(configPath, JSON.stringify(config));
  const env = { ...process.env, GATEWAY_CONFIG: configPath, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', GATEWAY_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'info' };
  const gateway = spawn(process.execPath, ['--max-semi-space-size=16', path.join(ROOT, 'dist', 'main.js')], { env, cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  gateway.stdout.setEncoding('utf8');
  const port = await new Promise((resolve, reject) => {
    gateway.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /"msg":"gateway listening".*?"port":(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    gateway.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const pool = new Pool(url, { connections: 40 });
  const end = Date.now() + LOAD_MS;
  const loop = async (route, pauseMs) => {
    for (let i = 0; Date.now() < end; i++) {
      const res = await pool.request({ path: `/api/${route}/${i}`, method: 'GET' }).catch(() => null);
      await res?.body.dump();
      if (pauseMs) await new Promise((done) => setTimeout(done, pauseMs));
    }
  };
  const traffic = Promise.all([
    ...Array.from({ length: 6 }, () => loop('users', 1)),
    ...Array.from({ length: 24 }, () => loop('orders', 0)),
    ...Array.from({ length: 6 }, () => loop('inventory', 0)),
  ]);
  // One inventory target goes down part-way through.
  setTimeout(() => {
    inventorySpare.server.closeAllConnections();
    inventorySpare.server.close();
  }, LOAD_MS / 2);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 820 } });
    await page.goto(`${url}/_gateway/dashboard`);
    await page.locator('#token').fill(TOKEN);
    await page.locator('#login button[type=submit]').click();
    await page.locator('#board').waitFor({ state: 'visible' });
    await new Promise((done) => setTimeout(done, Math.max(0, end - Date.now() - 1500)));
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    await page.screenshot({ path: OUT, fullPage: true });
    console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
  } finally {
    await browser.close();
    await traffic;
    await pool.close();
    gateway.kill('SIGTERM');
    await once(gateway, 'exit');
    for (const u of [users, orders, inventory, inventorySpare]) {
      u.server.closeAllConnections();
      u.server.close();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`dashboard-screenshot: ${error.message}`);
  process.exit(1);
});
