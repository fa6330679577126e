import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { call } from '../support/http';
import {
  makeTempDir,
  runGatewayProcess,
  startGatewayProcess,
  writeTempConfig,
  type GatewayProcess,
} from '../support/gateway-process';
import { startUpstream, type EchoBody, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/operations.md "Running in production" and "Environment variables" for the built gateway as operators run it: `node dist/main.js`, configured
 * by environment variables and env files. A bad value stops it at start with exit code 1 and one
 * line per problem naming the field; a good one serves until SIGTERM, then exits 0.
 */

jest.setTimeout(60_000);

/** stderr as its non-empty lines. */
const linesOf = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

/** The field a `config: <field>: <message>` line names. */
const fieldOf = (line: string): string | null => /^config: ([^:\s]+): /.exec(line)?.[1] ?? null;

const VALID_CONFIG = {
  upstreams: { echo: { targets: ['http://127.0.0.1:9'] } },
  routes: [{ id: 'echo', path: '/api/*', upstream: 'echo' }],
};

describe('start-up: an invalid config stops the gateway with one line per problem', () => {
  /*
   * Seven independent problems; everything else in the file is valid, so exactly these seven
   * fields must be named, each on a line of its own.
   */
  const BROKEN_CONFIG = `
upstreams:
  users:
    targets: [http://127.0.0.1:3001]
    loadbalancing: round-robin
  billing:
    targets: ["http://"]
routes:
  - id: orders
    path: /api/orders
    upstream: orders
  - id: users
    path: /api/users
    upstream: users
  - id: users
    path: /api/users/me
    upstream: users
  - id: typo
    path: /api/typo
    upstream: users
    methdos: [GET]
  - id: rewrite
    path: /api/accounts/:id
    upstream: users
    rewrite: /v1/accounts/:accountId
  - id: legacy
    pathRegex: "^/v[0-9+/legacy/(.*$"
    upstream: users
`;
  const EXPECTED: ReadonlyArray<{ field: string; mentions: RegExp }> = [
    { field: 'upstreams.users.loadbalancing', mentions: /unknown field/ },
    { field: 'upstreams.billing.targets[0]', mentions: /"http:\/\/" is not a valid URL/ },
    { field: 'routes[0].upstream', mentions: /"orders" is not a defined upstream/ },
    { field: 'routes[2].id', mentions: /"users" is already used by routes\[1\]/ },
    { field: 'routes[3].methdos', mentions: /unknown field/ },
    { field: 'routes[4].rewrite', mentions: /:accountId/ },
    { field: 'routes[5].pathRegex', mentions: /regular expression/ },
  ];

  let exit: Awaited<ReturnType<typeof runGatewayProcess>>;

  beforeAll(async () => {
    exit = await runGatewayProcess({ config: BROKEN_CONFIG });
  });

  it('exits with code 1 without ever listening', () => {
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(1);
    expect(exit.stdout).not.toContain('gateway listening');
  });

  it.each(EXPECTED)('names $field on a line of its own', ({ field, mentions }) => {
    const lines = linesOf(exit.stderr).filter((line) => fieldOf(line) === field);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(mentions);
  });

  it('prints nothing but those problem lines on stderr (no stack trace, no extra errors)', () => {
    const lines = linesOf(exit.stderr);
    expect(lines).toHaveLength(EXPECTED.length);
    for (const line of lines) expect(line).toMatch(/^config: \S+: \S/);
    expect(lines.map(fieldOf).sort()).toEqual(EXPECTED.map((e) => e.field).sort());
  });
});

describe('start-up: bad environment and unreadable config files', () => {
  let configPath: string;
  let dir: string;

  beforeAll(async () => {
    configPath = await writeTempConfig(VALID_CONFIG);
    dir = join(configPath, '..');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a non-numeric GATEWAY_PORT exits 1 with one line naming GATEWAY_PORT', async () => {
    const exit = await runGatewayProcess({ env: { GATEWAY_CONFIG: configPath, GATEWAY_PORT: 'eighty' } });
    expect(exit.code).toBe(1);
    expect(exit.stdout).not.toContain('gateway listening');
    expect(linesOf(exit.stderr)).toEqual([expect.stringMatching(/^env: GATEWAY_PORT: \S/)]);
  });

  it('a GATEWAY_PORT out of range exits 1 naming GATEWAY_PORT', async () => {
    const exit = await runGatewayProcess({ env: { GATEWAY_CONFIG: configPath, GATEWAY_PORT: '70000' } });
    expect(exit.code).toBe(1);
    expect(linesOf(exit.stderr)).toEqual([expect.stringMatching(/^env: GATEWAY_PORT: \S/)]);
  });

  it('a GATEWAY_CONFIG path that does not exist exits 1 with one line naming the file', async () => {
    const missing = join(dir, 'no-such-gateway.yaml');
    const exit = await runGatewayProcess({ env: { GATEWAY_CONFIG: missing } });
    expect(exit.code).toBe(1);
    expect(exit.stdout).not.toContain('gateway listening');
    const lines = linesOf(exit.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^config: /);
    expect(lines[0]).toContain(missing);
  });

  it('a GATEWAY_CONFIG path that is a directory exits 1 with one line naming it', async () => {
    const exit = await runGatewayProcess({ env: { GATEWAY_CONFIG: dir } });
    expect(exit.code).toBe(1);
    const lines = linesOf(exit.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^config: /);
    expect(lines[0]).toContain(dir);
  });

  it('a config file that is not valid YAML exits 1 with a line naming the file', async () => {
    const exit = await runGatewayProcess({ config: 'routes: [\n  - id: a\n    path: /a\n  upstream: {\n' });
    expect(exit.code).toBe(1);
    const lines = linesOf(exit.stderr);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toMatch(/^config: .*gateway\.yaml:\d+:\d+: /);
  });
});

describe('start-up: a valid config serves until SIGTERM', () => {
  let upstream: UpstreamFixture;
  let gateway: GatewayProcess | undefined;

  beforeAll(async () => {
    upstream = await startUpstream();
  });

  afterEach(async () => {
    await gateway?.kill();
    gateway = undefined;
  });

  afterAll(async () => {
    await upstream?.close();
  });

  it('listens on the port its start-up line names, answers /_gateway/health/live with 200 and exits 0 on SIGTERM', async () => {
    gateway = await startGatewayProcess({ config: VALID_CONFIG });
    const listening = gateway.logLines().find((line) => line.msg === 'gateway listening');
    expect(listening).toMatchObject({ port: gateway.port });

    const live = await call(`${gateway.url}/_gateway/health/live`);
    expect(live.status).toBe(200);

    const exit = await gateway.stop('SIGTERM');
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(0);
  });

  it('reads a YAML config file and proxies the routes it defines', async () => {
    gateway = await startGatewayProcess({
      config: `upstreams:\n  echo:\n    targets: [${upstream.url}]\nroutes:\n  - id: echo\n    path: /api/*\n    upstream: echo\n`,
    });
    const proxied = await call(`${gateway.url}/api/things?x=1`);
    expect(proxied.status).toBe(200);
    expect(proxied.json<EchoBody>().url).toBe('/api/things?x=1');
    expect((await call(`${gateway.url}/nowhere`)).status).toBe(404);
  });
});

describe('start-up: env files', () => {
  let upstream: UpstreamFixture;
  let gateway: GatewayProcess | undefined;
  let cwd: string;
  let fileConfig: string;
  let envConfig: string;
  let stagingConfig: string;

  /** A config whose only route is `routePath`, so which config a gateway loaded shows in what it routes. */
  const configRouting = (routePath: string): unknown => ({
    upstreams: { echo: { targets: [upstream.url] } },
    routes: [{ id: 'only', path: routePath, upstream: 'echo' }],
  });

  beforeAll(async () => {
    upstream = await startUpstream();
    cwd = await makeTempDir();
    await mkdir(join(cwd, 'configs'));
    fileConfig = await writeTempConfig(configRouting('/from-env-file'), 'from-env-file.json', join(cwd, 'configs'));
    envConfig = await writeTempConfig(configRouting('/from-process-env'), 'from-process-env.json', join(cwd, 'configs'));
    stagingConfig = await writeTempConfig(configRouting('/from-staging-file'), 'from-staging-file.json', join(cwd, 'configs'));
    await writeFile(join(cwd, '.env'), `# written by startup.e2e-spec.ts\nGATEWAY_CONFIG=${fileConfig}\n`);
    await writeFile(join(cwd, '.env.staging'), `GATEWAY_CONFIG=${stagingConfig}\n`);
  });

  afterEach(async () => {
    await gateway?.kill();
    gateway = undefined;
  });

  afterAll(async () => {
    await upstream?.close();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  async function routes(gw: GatewayProcess, path: string): Promise<number> {
    const res = await call(`${gw.url}${path}`);
    if (res.status === 200) expect(res.json<EchoBody>().url).toBe(path);
    return res.status;
  }

  it('reads GATEWAY_CONFIG from a .env file in the working directory', async () => {
    gateway = await startGatewayProcess({ cwd, env: { GATEWAY_CONFIG: undefined } });
    expect(await routes(gateway, '/from-env-file')).toBe(200);
    expect(await routes(gateway, '/from-process-env')).toBe(404);
  });

  it('the process environment wins over the .env file', async () => {
    gateway = await startGatewayProcess({ cwd, env: { GATEWAY_CONFIG: envConfig } });
    expect(await routes(gateway, '/from-process-env')).toBe(200);
    expect(await routes(gateway, '/from-env-file')).toBe(404);
  });

  it('.env.<NODE_ENV> wins over .env', async () => {
    gateway = await startGatewayProcess({ cwd, env: { GATEWAY_CONFIG: undefined, NODE_ENV: 'staging' } });
    expect(await routes(gateway, '/from-staging-file')).toBe(200);
    expect(await routes(gateway, '/from-env-file')).toBe(404);
  });

  it('a bad value in the .env file stops the gateway naming the variable', async () => {
    const badCwd = await makeTempDir();
    try {
      await writeFile(join(badCwd, '.env'), `GATEWAY_CONFIG=${envConfig}\nLOG_LEVEL=chatty\n`);
      const exit = await runGatewayProcess({ cwd: badCwd, env: { GATEWAY_CONFIG: undefined, LOG_LEVEL: undefined } });
      expect(exit.code).toBe(1);
      expect(linesOf(exit.stderr)).toEqual([expect.stringMatching(/^env: LOG_LEVEL: \S/)]);
    } finally {
      await rm(badCwd, { recursive: true, force: true });
    }
  });
});
