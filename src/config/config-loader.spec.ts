import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error';
import { loadGatewayConfigFile, parseConfigText } from './config-loader';

const YAML_CONFIG = `# a small gateway
server:
  trustProxy: true
upstreams:
  users:
    targets: [http://127.0.0.1:3001/]
    loadBalancing: least-request
routes:
  - id: users-read
    path: /api/users/:id
    methods: [GET, HEAD]
    upstream: users
    rewrite: /v1/users/:id
  - id: legacy
    pathRegex: ^/v[0-9]+/legacy/.*$
    upstream: users
`;

const JSON_CONFIG = JSON.stringify(
  {
    upstreams: { users: { targets: ['http://127.0.0.1:3001'] } },
    routes: [{ id: 'users-read', path: '/api/users/:id', upstream: 'users', rateLimit: { limit: 5, windowMs: 1000, key: 'route' } }],
  },
  null,
  2,
);

function errorOf(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadGatewayConfigFile', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-config-spec-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, text: string): string {
    const file = join(dir, name);
    writeFileSync(file, text, 'utf8');
    return file;
  }

  it('loads and validates a YAML file', () => {
    const { config, raw } = loadGatewayConfigFile(write('gateway.yaml', YAML_CONFIG));
    expect(config.server.trustProxy).toBe(true);
    expect(config.upstreams.users.targets).toEqual(['http://127.0.0.1:3001']);
    expect(config.upstreams.users.loadBalancing).toBe('least-request');
    expect(config.routes.map((r) => r.id)).toEqual(['users-read', 'legacy']);
    expect(config.routes[0].methods).toEqual(['GET', 'HEAD']);
    expect(config.routes[1].pathRegex).toBe('^/v[0-9]+/legacy/.*$');
    expect(Object.isFrozen(config)).toBe(true);
    // `raw` is the file as parsed, before defaults.
    expect(raw).toEqual({
      server: { trustProxy: true },
      upstreams: { users: { targets: ['http://127.0.0.1:3001/'], loadBalancing: 'least-request' } },
      routes: [
        { id: 'users-read', path: '/api/users/:id', methods: ['GET', 'HEAD'], upstream: 'users', rewrite: '/v1/users/:id' },
        { id: 'legacy', pathRegex: '^/v[0-9]+/legacy/.*$', upstream: 'users' },
      ],
    });
  });

  it('loads and validates a JSON file', () => {
    const { config, raw } = loadGatewayConfigFile(write('gateway.json', JSON_CONFIG));
    expect(config.routes[0].rateLimit).toEqual({ limit: 5, windowMs: 1000, key: 'route' });
    expect(config.server.managementPrefix).toBe('/_gateway');
    expect(raw).toEqual(JSON.parse(JSON_CONFIG));
  });

  it('reports a missing file with its path and error code, and how to point at the right one', () => {
    const missing = join(dir, 'does-not-exist.yaml');
    const error = errorOf(() => loadGatewayConfigFile(missing));
    expect(error.lines).toEqual([`config: cannot read ${missing} (ENOENT); set GATEWAY_CONFIG to the config file`]);
  });

  it('reports a directory as unreadable', () => {
    const error = errorOf(() => loadGatewayConfigFile(dir));
    expect(error.lines).toEqual([`config: cannot read ${dir} (EISDIR); set GATEWAY_CONFIG to the config file`]);
  });

  it('reports a YAML syntax error as file:line:col', () => {
    const file = write('broken.yaml', 'upstreams:\n  users:\n    targets: [http://a\nroutes: []\n');
    const error = errorOf(() => loadGatewayConfigFile(file));
    expect(error.lines.length).toBeGreaterThan(0);
    for (const line of error.lines) expect(line).toMatch(new RegExp(`^config: ${escapeRegExp(file)}:\\d+:\\d+: \\S`));
    expect(error.lines[0]).toMatch(new RegExp(`^config: ${escapeRegExp(file)}:4:1: `));
  });

  it('reports a bad indentation at its line and column', () => {
    const file = write('indent.yaml', 'routes:\n  - id: a\n   path: /x\n');
    const error = errorOf(() => loadGatewayConfigFile(file));
    expect(error.lines[0]).toMatch(new RegExp(`^config: ${escapeRegExp(file)}:3:\\d+: `));
  });

  it('rejects duplicate keys at their line', () => {
    const file = write('dupe.yaml', 'upstreams:\n  users:\n    targets: [http://a]\nroutes: []\nroutes: []\n');
    const error = errorOf(() => loadGatewayConfigFile(file));
    expect(error.lines).toHaveLength(1);
    expect(error.lines[0]).toMatch(new RegExp(`^config: ${escapeRegExp(file)}:5:1: `));
  });

  it('reports a JSON syntax error as file:line:col', () => {
    const file = write('broken.json', '{\n  "upstreams": {},\n  "routes": [\n}\n');
    const error = errorOf(() => loadGatewayConfigFile(file));
    expect(error.lines.length).toBeGreaterThan(0);
    for (const line of error.lines) expect(line).toMatch(new RegExp(`^config: ${escapeRegExp(file)}:\\d+:\\d+: \\S`));
  });

  it('reports validation problems of a well-formed file by field', () => {
    const file = write('invalid.yaml', YAML_CONFIG.replace('upstream: users\n    rewrite', 'upstream: orders\n    rewrite'));
    const error = errorOf(() => loadGatewayConfigFile(file));
    expect(error.lines).toEqual(['config: routes[0].upstream: "orders" is not a defined upstream']);
  });

  it('rejects an empty file', () => {
    const file = write('empty.yaml', '');
    expect(errorOf(() => loadGatewayConfigFile(file)).lines).toEqual([
      'config: the file must hold an object with upstreams and routes',
    ]);
  });

  it('rejects a file holding a list', () => {
    const file = write('list.yaml', '- a\n- b\n');
    expect(errorOf(() => loadGatewayConfigFile(file)).lines).toEqual([
      'config: the file must hold an object with upstreams and routes',
    ]);
  });
});

describe('parseConfigText', () => {
  it('parses YAML and JSON to plain values', () => {
    expect(parseConfigText('a: 1\nb: [x, y]\n', 'f.yaml')).toEqual({ a: 1, b: ['x', 'y'] });
    expect(parseConfigText('{"a": 1, "b": ["x", "y"]}', 'f.json')).toEqual({ a: 1, b: ['x', 'y'] });
  });

  it('names the path it was given in every error line', () => {
    const error = errorOf(() => parseConfigText('a: "unterminated\n', 'conf/gw.yaml'));
    expect(error.lines.length).toBeGreaterThan(0);
    for (const line of error.lines) expect(line).toMatch(/^config: conf\/gw\.yaml:\d+:\d+: /);
  });

  it('keeps each problem on one line', () => {
    const error = errorOf(() => parseConfigText('a: [1, 2\nb: 3\n', 'x.yaml'));
    expect(error.problems.length).toBeGreaterThan(0);
    for (const problem of error.problems) expect(problem).not.toContain('\n');
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
