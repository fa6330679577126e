import 'reflect-metadata';
import { ConfigError } from './config-error';
import { LOG_LEVELS, validateEnvironment } from './environment';

function errorOf(env: Record<string, unknown>): ConfigError {
  try {
    validateEnvironment(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the environment to be rejected');
}

/** The port the gateway would listen on, or 'rejected'. */
function portOrRejected(value: string): number | 'rejected' {
  try {
    return validateEnvironment({ GATEWAY_PORT: value }).port;
  } catch (error) {
    if (error instanceof ConfigError) return 'rejected';
    throw error;
  }
}

describe('validateEnvironment', () => {
  it('applies the docs/configuration.md "Environment variables" defaults to an empty environment', () => {
    expect(validateEnvironment({})).toEqual({
      configPath: 'config/gateway.yaml',
      host: '0.0.0.0',
      port: 8080,
      adminToken: null,
      redisUrl: null,
      logLevel: 'info',
      shutdownGraceMs: 10_000,
      pluginPaths: [],
    });
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(validateEnvironment({}))).toBe(true);
  });

  it('reads every variable', () => {
    expect(
      validateEnvironment({
        GATEWAY_CONFIG: '/etc/gateway/gw.json',
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: '9090',
        GATEWAY_ADMIN_TOKEN: 'a-long-enough-admin-token',
        REDIS_URL: 'redis://cache:6379/0',
        LOG_LEVEL: 'debug',
        GATEWAY_SHUTDOWN_GRACE_MS: '2500',
        GATEWAY_PLUGINS: 'plugins/a.js, /opt/b.js',
      }),
    ).toEqual({
      configPath: '/etc/gateway/gw.json',
      host: '127.0.0.1',
      port: 9090,
      adminToken: 'a-long-enough-admin-token',
      redisUrl: 'redis://cache:6379/0',
      logLevel: 'debug',
      shutdownGraceMs: 2500,
      pluginPaths: ['plugins/a.js', '/opt/b.js'],
    });
  });

  it('ignores variables it does not know', () => {
    expect(validateEnvironment({ PATH: '/usr/bin', HOME: 42, NODE_ENV: 'production', GATEWAY_PROT: 'x' })).toEqual(validateEnvironment({}));
  });

  it('treats empty values as unset', () => {
    expect(validateEnvironment({ GATEWAY_PORT: '', LOG_LEVEL: '', GATEWAY_CONFIG: '', GATEWAY_ADMIN_TOKEN: '' })).toEqual(
      validateEnvironment({}),
    );
  });

  describe('port', () => {
    it('reads GATEWAY_PORT', () => {
      expect(validateEnvironment({ GATEWAY_PORT: '3000' }).port).toBe(3000);
    });

    it('accepts 0 (pick a free port) and 65535', () => {
      expect(validateEnvironment({ GATEWAY_PORT: '0' }).port).toBe(0);
      expect(validateEnvironment({ GATEWAY_PORT: '65535' }).port).toBe(65535);
    });

    it('falls back to PORT', () => {
      expect(validateEnvironment({ PORT: '4000' }).port).toBe(4000);
      expect(validateEnvironment({ GATEWAY_PORT: '', PORT: '4000' }).port).toBe(4000);
    });

    it('prefers GATEWAY_PORT over PORT', () => {
      expect(validateEnvironment({ GATEWAY_PORT: '3000', PORT: '4000' }).port).toBe(3000);
      expect(validateEnvironment({ GATEWAY_PORT: '0', PORT: '4000' }).port).toBe(0);
    });

    it('rejects a non-numeric GATEWAY_PORT with one line naming it', () => {
      const error = errorOf({ GATEWAY_PORT: 'abc' });
      expect(error.source).toBe('env');
      expect(error.lines).toHaveLength(1);
      expect(error.lines[0]).toMatch(/^env: GATEWAY_PORT: .*whole number/);
    });

    it.each(['80.5', '-1', '65536', '8o80', 'eighty'])('rejects GATEWAY_PORT=%j, naming GATEWAY_PORT', (value) => {
      const error = errorOf({ GATEWAY_PORT: value });
      expect(error.lines.length).toBeGreaterThan(0);
      for (const line of error.lines) expect(line).toMatch(/^env: GATEWAY_PORT: /);
    });

    it('rejects a non-numeric PORT, naming PORT', () => {
      const error = errorOf({ PORT: 'http' });
      expect(error.lines.length).toBeGreaterThan(0);
      for (const line of error.lines) expect(line).toMatch(/^env: PORT: /);
    });

    it.each([' ', '\t'])('never turns a blank GATEWAY_PORT (%j) into port 0', (value) => {
      expect(portOrRejected(value)).not.toBe(0);
    });

    it.each(['0x1F90', '1e3'])('rejects GATEWAY_PORT=%j (not plain decimal digits)', (value) => {
      expect(portOrRejected(value)).toBe('rejected');
    });
  });

  describe('LOG_LEVEL', () => {
    it('has the values of docs/configuration.md "Environment variables"', () => {
      expect([...LOG_LEVELS]).toEqual(['debug', 'info', 'warn', 'error']);
    });

    it.each(['debug', 'info', 'warn', 'error'])('accepts %s', (level) => {
      expect(validateEnvironment({ LOG_LEVEL: level }).logLevel).toBe(level);
    });

    it.each(['verbose', 'trace', 'warning', 'fatal', 'loud'])('rejects %s, naming LOG_LEVEL and the allowed values', (level) => {
      const error = errorOf({ LOG_LEVEL: level });
      expect(error.lines).toEqual([expect.stringMatching(/^env: LOG_LEVEL: .*debug, info, warn, error/)]);
    });
  });

  describe('other variables', () => {
    it('rejects a non-numeric GATEWAY_SHUTDOWN_GRACE_MS', () => {
      const error = errorOf({ GATEWAY_SHUTDOWN_GRACE_MS: 'soon' });
      expect(error.lines.length).toBeGreaterThan(0);
      for (const line of error.lines) expect(line).toMatch(/^env: GATEWAY_SHUTDOWN_GRACE_MS: /);
    });

    it('accepts GATEWAY_SHUTDOWN_GRACE_MS=0', () => {
      expect(validateEnvironment({ GATEWAY_SHUTDOWN_GRACE_MS: '0' }).shutdownGraceMs).toBe(0);
    });

    it('rejects a REDIS_URL that is not redis:// or rediss://', () => {
      expect(errorOf({ REDIS_URL: 'http://cache:6379' }).lines).toEqual([expect.stringMatching(/^env: REDIS_URL: /)]);
      expect(validateEnvironment({ REDIS_URL: 'rediss://cache:6380' }).redisUrl).toBe('rediss://cache:6380');
    });

    it('rejects a short GATEWAY_ADMIN_TOKEN', () => {
      expect(errorOf({ GATEWAY_ADMIN_TOKEN: 'short' }).lines).toEqual([expect.stringMatching(/^env: GATEWAY_ADMIN_TOKEN: /)]);
    });
  });

  it('reports every bad variable at once, each line naming its variable', () => {
    const error = errorOf({ GATEWAY_PORT: 'abc', LOG_LEVEL: 'loud', REDIS_URL: 'x' });
    const named = new Set(error.lines.map((line) => /^env: ([A-Z_]+): /.exec(line)?.[1]));
    expect(named).toEqual(new Set(['GATEWAY_PORT', 'LOG_LEVEL', 'REDIS_URL']));
    expect(error.message.split('\n')).toEqual(error.lines);
  });
});
