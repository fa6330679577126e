import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { validateGatewayConfig } from '../../src/config/config-validator';
import { ENVIRONMENT_VARIABLES } from '../../src/config/environment';
import { CONFIG_SCHEMA_PATH, schemaProblems } from '../support/config-schema';
import { GATEWAY_MAIN_JS, gatewayChildEnv, makeTempDir, startGatewayProcess, writeTempConfig } from '../support/gateway-process';

/*
 * docs/configuration.md "Checking a config" and "Editor support": the JSON Schema generated from
 * the validator's classes, `--check` (`npm run check-config`), config/.env.example, and what
 * start-up prints when it cannot start (docs/operations.md "Running in production").
 */

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/main.js --check <file>` from an empty directory, with a preload that exits 99 if anything listens. */
async function check(file: string, env: Record<string, string> = {}, cwd?: string): Promise<Outcome> {
  cwd ??= await makeTempDir();
  const preload = resolve(__dirname, '../support/no-listen.js');
  try {
    const { stdout, stderr } = await run(process.execPath, ['--require', preload, GATEWAY_MAIN_JS, '--check', file], { cwd, env: gatewayChildEnv(env), timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const FIVE_PROBLEMS = `
upstreams:
  users:
    targets: [ftp://127.0.0.1:3001]
    pool: { maxSockets: 0 }
routes:
  - id: users
    path: /api/users/*
    upstream: users
    concurrency: { queue: 5 }
  - id: orders
    path: /api/orders/*
    upstream: orders
    timeoutMs: fast
`;

describe('check-config', () => {
  it('passes the demo config with a one-line summary, exit 0, binding no port', async () => {
    // The demo config reads its API key digests from config/api-keys.yaml, relative to the working directory.
    const outcome = await check('config/gateway.yaml', {}, ROOT);
    expect(outcome.stderr).not.toContain('no-listen');
    expect(outcome).toMatchObject({ code: 0, stderr: '' });
    expect(outcome.stdout.trim().split('\n')).toHaveLength(1);
    expect(outcome.stdout).toMatch(/gateway\.yaml: valid\. 9 route\(s\): users-me, .*; 4 upstream\(s\): users, orders, slow, inventory; plugins in use: cors, api-key/);
  });

  it('prints every problem of a config with five of them, each with its field path, and exits 1', async () => {
    const file = await writeTempConfig(FIVE_PROBLEMS, 'gateway.yaml');
    const outcome = await check(file);
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr.trim().split('\n').sort()).toEqual(
      [
        'config: upstreams.users.pool.maxSockets: maxSockets must not be less than 1',
        'config: upstreams.users.targets[0]: "ftp://127.0.0.1:3001" must be an http:// or https:// URL',
        'config: routes[0].concurrency.limit: is required',
        'config: routes[1].timeoutMs: timeoutMs must be an integer number',
        'config: routes[1].upstream: "orders" is not a defined upstream',
      ].sort(),
    );
  });

  it('checks the environment as start-up does, and a plugin\'s settings (a missing key file), all in one run', async () => {
    const file = await writeTempConfig(
      {
        upstreams: { u: { targets: ['http://127.0.0.1:3001'] } },
        routes: [{ id: 'keyed', path: '/k', upstream: 'u', plugins: [{ name: 'api-key', config: { keysFile: 'no-such-keys.yaml' } }] }],
      },
      'gateway.json',
    );
    const plugin = await check(file);
    expect(plugin.code).toBe(1);
    expect(plugin.stderr).toMatch(/^config: routes\[0\]\.plugins\[0\]\.config\.keysFile: .*no-such-keys\.yaml/m);
    const env = await check(file, { GATEWAY_PORT: 'http', LOG_LEVEL: 'loud' });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('env: GATEWAY_PORT: must be a whole number written in decimal digits (got "http")');
    expect(env.stderr).toMatch(/^env: LOG_LEVEL: /m);
  });

  it('a duplicate key is one problem among the others, not the only one shown', async () => {
    const file = await writeTempConfig('upstreams:\n  u:\n    targets: [http://127.0.0.1:1]\nroutes:\n  - id: r\n    id: s\n    path: /r\n    upstream: nope\n', 'gateway.yaml');
    const outcome = await check(file);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^config: .*gateway\.yaml:6:5: Map keys must be unique \("id" is written twice\)$/),
      'config: routes[0].upstream: "nope" is not a defined upstream',
    ]);
  });

  it('npm run check-config -- <file> runs the same check', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'check-config', '--', 'config/gateway.yaml'], { cwd: ROOT, env: gatewayChildEnv(), timeout: 60_000 });
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^config\/gateway\.yaml: valid\. 9 route\(s\)/);
  }, 60_000);
});

describe('the config JSON Schema', () => {
  it('is what the generator makes of the validator classes today (npm run config-schema)', async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, 'scripts/config-schema.js'), '--print'], { cwd: ROOT });
    expect(stdout).toBe(readFileSync(CONFIG_SCHEMA_PATH, 'utf8'));
  });

  it('config/gateway.yaml points editors at it', () => {
    expect(readFileSync(join(ROOT, 'config/gateway.yaml'), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./gateway.schema.json');
  });

  it('accepts the demo config and the deploy/ configs', () => {
    const configMap = parse(readFileSync(join(ROOT, 'deploy/kubernetes/configmap.yaml'), 'utf8')) as { data: Record<string, string> };
    const configs: Record<string, unknown> = {
      'config/gateway.yaml': readFileSync(join(ROOT, 'config/gateway.yaml'), 'utf8'),
      'deploy/gateway.compose.yaml': readFileSync(join(ROOT, 'deploy/gateway.compose.yaml'), 'utf8'),
      'deploy/kubernetes/configmap.yaml (gateway.yaml)': configMap.data['gateway.yaml'],
    };
    for (const [name, config] of Object.entries(configs)) expect({ name, problems: schemaProblems(config) }).toEqual({ name, problems: [] });
  });

  it.each([
    ['an unknown field', { upstreams: { u: { targets: ['http://127.0.0.1:1'] } }, routes: [{ id: 'r', path: '/r', upstream: 'u', timeout: 5 }] }],
    ['a missing required field', { upstreams: { u: { targets: ['http://127.0.0.1:1'] } }, routes: [{ id: 'r', path: '/r', upstream: 'u', concurrency: { queue: 1 } }] }],
    ['a wrong type and a route with neither path nor pathRegex', { upstreams: { u: { targets: 'http://127.0.0.1:1' } }, routes: [{ id: 'r', upstream: 'u' }] }],
  ])('rejects %s, as the gateway does', (_what, config) => {
    expect(schemaProblems(config).length).toBeGreaterThan(0);
    expect(() => validateGatewayConfig(config)).toThrow();
  });
});

describe('config/.env.example', () => {
  it('lists every variable the gateway reads, and no other', () => {
    const text = readFileSync(join(ROOT, 'config/.env.example'), 'utf8');
    const listed = [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...ENVIRONMENT_VARIABLES].sort());
  });
});

describe('start-up failures', () => {
  let holder: Server;
  afterEach(async () => {
    if (holder?.listening) await new Promise((done) => holder.close(done));
  });

  it('a second gateway on a port in use prints one line naming GATEWAY_PORT and exits 1', async () => {
    const first = await startGatewayProcess({ config: { upstreams: { u: { targets: ['http://127.0.0.1:1'] } }, routes: [{ id: 'r', path: '/r', upstream: 'u' }] } });
    try {
      const file = await writeTempConfig({ upstreams: { u: { targets: ['http://127.0.0.1:1'] } }, routes: [{ id: 'r', path: '/r', upstream: 'u' }] });
      const second = spawn(process.execPath, [GATEWAY_MAIN_JS], {
        cwd: await makeTempDir(),
        env: gatewayChildEnv({ GATEWAY_CONFIG: file, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: String(first.port) }),
      });
      let stderr = '';
      second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(second, 'exit')) as [number];
      expect({ code, lines: stderr.trim().split('\n') }).toEqual({
        code: 1,
        lines: [`env: GATEWAY_PORT: 127.0.0.1:${first.port} is already in use by another process (EADDRINUSE); stop it or choose another port`],
      });
    } finally {
      await first.kill();
    }
  });

  it('the production command (node --max-semi-space-size=16 dist/main.js): stdout is only JSON log lines, SIGTERM exits 0', async () => {
    holder = createServer((_req, res) => res.end('ok'));
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const file = await writeTempConfig({ upstreams: { u: { targets: [`http://127.0.0.1:${(holder.address() as AddressInfo).port}`] } }, routes: [{ id: 'r', path: '/r', upstream: 'u' }] });
    const child = spawn(process.execPath, ['--max-semi-space-size=16', GATEWAY_MAIN_JS], {
      cwd: await makeTempDir(),
      env: gatewayChildEnv({ GATEWAY_CONFIG: file, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', LOG_LEVEL: 'info' }),
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const listening = new Promise<number>((done) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const port = /"msg":"gateway listening".*?"port":(\d+)/.exec(stdout)?.[1];
        if (port !== undefined) done(Number(port));
      }),
    );
    const port = await listening;
    const res = await fetch(`http://127.0.0.1:${port}/r`);
    expect(await res.text()).toBe('ok');
    child.kill('SIGTERM');
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const lines = stdout.trim().split('\n');
    const notJson = lines.filter((line) => {
      try {
        return typeof JSON.parse(line) !== 'object';
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(expect.arrayContaining(['gateway listening', 'request', 'shutting down']));
  });
});
