import 'reflect-metadata';
import { diffConfigs } from './config-diff';
import { validateGatewayConfig } from './config-validator';

const base = {
  upstreams: {
    users: { targets: ['http://127.0.0.1:3001'] },
    orders: { targets: ['http://127.0.0.1:3002'] },
  },
  routes: [
    { id: 'users', path: '/users/*', upstream: 'users' },
    { id: 'orders', path: '/orders/*', upstream: 'orders' },
  ],
};

describe('diffConfigs', () => {
  it('finds nothing between two loads of the same file', () => {
    const changes = diffConfigs(validateGatewayConfig(base), validateGatewayConfig(structuredClone(base)));
    const none = { added: [], removed: [], changed: [] };
    expect(changes).toEqual({ routes: none, upstreams: none, restartRequired: [] });
  });

  it('names routes and upstreams added, removed and changed', () => {
    const after = validateGatewayConfig({
      upstreams: {
        users: { targets: ['http://127.0.0.1:3001', 'http://127.0.0.1:3003'] },
        billing: { targets: ['http://127.0.0.1:3004'] },
      },
      routes: [
        { id: 'users', path: '/users/*', upstream: 'users', timeoutMs: 500 },
        { id: 'billing', path: '/billing/*', upstream: 'billing' },
      ],
    });
    const changes = diffConfigs(validateGatewayConfig(base), after);
    expect(changes.routes).toEqual({ added: ['billing'], removed: ['orders'], changed: ['users'] });
    expect(changes.upstreams).toEqual({ added: ['billing'], removed: ['orders'], changed: ['users'] });
    expect(changes.restartRequired).toEqual([]);
  });

  it('counts a changed default as a change of every route that inherits it', () => {
    const after = validateGatewayConfig({ ...base, defaults: { timeoutMs: 1234 } });
    expect(diffConfigs(validateGatewayConfig(base), after).routes.changed).toEqual(['users', 'orders']);
  });

  it('lists server fields that only a restart applies', () => {
    const after = validateGatewayConfig({ ...base, server: { managementPrefix: '/_admin', trustProxy: true } });
    expect(diffConfigs(validateGatewayConfig(base), after).restartRequired).toEqual(['server.trustProxy', 'server.managementPrefix']);
  });
});
