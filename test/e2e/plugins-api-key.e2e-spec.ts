import { join } from 'node:path';
import type { RunningGateway } from '../../src/bootstrap';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { startTestGateway } from '../support/gateway-fixture';
import { makeTempDir, writeTempConfig } from '../support/gateway-process';
import { call, type TestResponse } from '../support/http';
import { ADMIN_TOKEN, adminOf, saveFile, sha256Hex } from '../support/plugins/plugin-gateway';
import { startUpstream, type RecordedRequest, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/plugins.md "Plugins" `api-key`: keys from a YAML file of id → SHA-256 and from an environment
 * variable; 401 unauthorized with WWW-Authenticate without a key or with a wrong one, and the
 * upstream never called; with the right one the key header is removed and the key's id goes
 * upstream as X-Consumer-Id and is the consumer rateLimit counts by; the file is re-read on reload.
 */

const KEYS = { alpha: 'alpha-key-0001', beta: 'beta-key-0002', gamma: 'gamma-key-0003', ci: 'ci-key-0004' };
const ENV_VAR = 'PLUGINS_E2E_API_KEYS';

let upstream: UpstreamFixture;
let gateway: RunningGateway;
let keysFile: string;
const savedEnv = process.env[ENV_VAR];

const keysYaml = (ids: Array<keyof typeof KEYS>): string => ids.map((id) => `${id}: ${sha256Hex(KEYS[id])}\n`).join('');
const get = (path: string, headers: Record<string, string> = {}): Promise<TestResponse> => call(`${gateway.url}${path}`, { headers });
const at = (path: string): RecordedRequest[] => upstream.requests.filter((r) => r.url === path);
/** What reached the upstream at `path`, after a request through the gateway as a barrier. */
const reached = async (path: string): Promise<number> => {
  expect((await get('/open')).status).toBe(200);
  return at(path).length;
};
/** How often the upstream got `name` in the raw headers of its last request to `path`. */
const rawCount = (path: string, name: string): number => at(path).at(-1)!.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === name).length;

beforeAll(async () => {
  upstream = await startUpstream();
  const dir = await makeTempDir();
  keysFile = join(dir, 'keys.yaml');
  await saveFile(keysFile, keysYaml(['alpha', 'beta']));
  process.env[ENV_VAR] = `{ci: ${sha256Hex(KEYS.ci)}}`;
  const fromFile = [{ name: 'api-key', config: { keysFile } }];
  const config = {
    upstreams: { app: { targets: [upstream.url] } },
    routes: [
      { id: 'files', path: '/files', upstream: 'app', plugins: fromFile },
      { id: 'env', path: '/env', upstream: 'app', plugins: [{ name: 'api-key', config: { header: 'x-team-key', keysEnv: ENV_VAR } }] },
      { id: 'open', path: '/open', upstream: 'app' },
      { id: 'metered', path: '/metered', upstream: 'app', plugins: fromFile, rateLimit: { limit: 2, windowMs: 60_000, key: 'consumer' } },
    ],
  };
  const configPath = await writeTempConfig(config, 'gateway.json', dir);
  gateway = await startTestGateway(config, { configPath, adminToken: ADMIN_TOKEN });
});

afterAll(async () => {
  if (savedEnv === undefined) delete process.env[ENV_VAR];
  else process.env[ENV_VAR] = savedEnv;
  await upstream.close();
  await gateway.close();
});

describe('refused', () => {
  it.each([
    ['/files', {}, 'ApiKey realm="gateway", header="x-api-key"'],
    ['/files', { 'x-api-key': '' }, 'ApiKey realm="gateway", header="x-api-key"'],
    ['/env', {}, 'ApiKey realm="gateway", header="x-team-key"'],
    // The key of the header the route does not read counts as none.
    ['/env', { 'x-api-key': KEYS.ci }, 'ApiKey realm="gateway", header="x-team-key"'],
  ])('%s without a key (%j): 401 unauthorized with WWW-Authenticate, upstream never called', async (path, headers, challenge) => {
    const res = await get(path, headers);
    expectGatewayError(res, 401, 'unauthorized', path.slice(1));
    expect(res.headers['www-authenticate']).toBe(challenge);
    expect(await reached(path)).toBe(0);
  });

  it.each([
    ['/files', 'x-api-key', 'not-a-known-key'],
    // Another route's key, and a key with one character changed.
    ['/files', 'x-api-key', KEYS.ci],
    ['/env', 'x-team-key', `${KEYS.ci.slice(0, -1)}5`],
    ['/env', 'x-team-key', KEYS.alpha],
  ])('%s with a wrong key in %s: 401 with error="invalid_key"', async (path, header, key) => {
    const res = await get(path, { [header]: key });
    expectGatewayError(res, 401, 'unauthorized', path.slice(1));
    expect(res.headers['www-authenticate']).toBe(`ApiKey realm="gateway", header="${header}", error="invalid_key"`);
    expect(await reached(path)).toBe(0);
  });
});

describe('accepted', () => {
  it('keys file: 200; the upstream gets X-Consumer-Id (the client’s own replaced) and never the key', async () => {
    const res = await get('/files', { 'x-api-key': KEYS.beta, 'x-consumer-id': 'admin' });
    expect(res.status).toBe(200);
    const seen = at('/files').at(-1)!.headers;
    expect(seen['x-consumer-id']).toBe('beta');
    expect(rawCount('/files', 'x-consumer-id')).toBe(1);
    expect(seen['x-api-key']).toBeUndefined();
    expect(JSON.stringify(upstream.requests)).not.toContain(KEYS.beta);
  });

  it('keysEnv with its own header: 200 with the id from the variable, the header removed', async () => {
    const res = await get('/env', { 'x-team-key': KEYS.ci });
    expect(res.status).toBe(200);
    const seen = at('/env').at(-1)!.headers;
    expect(seen['x-consumer-id']).toBe('ci');
    expect(seen['x-team-key']).toBeUndefined();
  });

  it('rateLimit key consumer after api-key: each key id has its own budget', async () => {
    const as = async (id: keyof typeof KEYS): Promise<number> => (await get('/metered', { 'x-api-key': KEYS[id] })).status;
    const statuses = [await as('alpha'), await as('alpha'), await as('alpha'), await as('beta'), await as('beta')];
    expect(statuses).toEqual([200, 200, 429, 200, 200]);
    expect(at('/metered').map((r) => r.headers['x-consumer-id'])).toEqual(['alpha', 'alpha', 'beta', 'beta']);
    // Refused before the rate limit: a request without a key is 401 and takes nobody’s budget.
    expect((await get('/metered')).status).toBe(401);
    expect(await reached('/metered')).toBe(4);
  });
});

describe('reload', () => {
  it('re-reads the keys file: a key added becomes valid and a key removed stops working', async () => {
    expect((await get('/files', { 'x-api-key': KEYS.gamma })).status).toBe(401);
    await saveFile(keysFile, keysYaml(['alpha', 'gamma']));
    // Not before the reload: keys are read at start and on reload only.
    expect((await get('/files', { 'x-api-key': KEYS.gamma })).status).toBe(401);
    const reload = await adminOf(gateway).reload();
    expect(reload.status).toBe(200);
    const res = await get('/files', { 'x-api-key': KEYS.gamma });
    expect(res.status).toBe(200);
    expect(at('/files').at(-1)!.headers['x-consumer-id']).toBe('gamma');
    expect((await get('/files', { 'x-api-key': KEYS.beta })).status).toBe(401);
    expect((await get('/files', { 'x-api-key': KEYS.alpha })).status).toBe(200);
  });

  it('refuses a reload whose keys file is broken, and the keys read before keep working', async () => {
    await saveFile(keysFile, 'alpha: not-a-digest\n');
    const reload = await adminOf(gateway).reload();
    expect(reload.status).toBe(400);
    expect(reload.json<{ errors: string[] }>().errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/^config: routes\[0\]\.plugins\[0\]\.config(\.|: )keysFile\b.*alpha must be the SHA-256 of the key/)]),
    );
    expect((await get('/files', { 'x-api-key': KEYS.gamma })).status).toBe(200);
  });
});
