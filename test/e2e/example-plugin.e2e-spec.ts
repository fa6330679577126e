import { resolve } from 'node:path';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { startGatewayProcess, waitForLogLines, type GatewayProcess } from '../support/gateway-process';
import { call } from '../support/http';
import { startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/plugins.md "Write your own plugin": the example tenant plugin (examples/plugins/), compiled by
 * `npm run build`, loaded with no gateway file edited: by GATEWAY_PLUGINS into the stock
 * dist/main.js, and by a team's own entry point through GatewayModule.forRoot.
 */

const EXAMPLES = resolve(__dirname, '../../examples/plugins/dist');
let upstream: UpstreamFixture;
const running: GatewayProcess[] = [];

const config = (): unknown => ({
  upstreams: { app: { targets: [upstream.url] } },
  routes: [
    {
      id: 'tenant-api',
      path: '/api/*',
      upstream: 'app',
      plugins: [{ name: 'tenant', config: { hostSuffix: 'api.example.com', tenants: ['acme', 'globex'] } }],
    },
  ],
});

beforeAll(async () => {
  upstream = await startUpstream();
});

afterAll(async () => {
  for (const gateway of running) await gateway.kill();
  await upstream.close();
});

async function started(options: Parameters<typeof startGatewayProcess>[0]): Promise<GatewayProcess> {
  const gateway = await startGatewayProcess(options);
  running.push(gateway);
  return gateway;
}

/** The tenant is the Host's first label: the upstream and the client hear it, unknown ones get 403. */
async function expectTenantPlugin(gateway: GatewayProcess): Promise<void> {
  const served = upstream.requests.length;
  const res = await call(`${gateway.url}/api/orders`, { headers: { host: 'acme.api.example.com', 'x-tenant': 'globex' } });
  expect(res.status).toBe(200);
  expect(res.headers['x-tenant']).toBe('acme');
  // The client's own claim was replaced.
  expect(upstream.requests[served].headers['x-tenant']).toBe('acme');
  expectGatewayError(await call(`${gateway.url}/api/orders`, { headers: { host: 'evil.api.example.com' } }), 403, 'forbidden', 'tenant-api');
  expect(upstream.requests.length).toBe(served + 1);
}

describe('the example tenant plugin', () => {
  it('loads into the stock build by GATEWAY_PLUGINS and config alone', async () => {
    const gateway = await started({ config: config(), env: { GATEWAY_PLUGINS: resolve(EXAMPLES, 'tenant/tenant.module.js') } });
    await expectTenantPlugin(gateway);
  });

  it("loads from a team's own entry point, runGateway(GatewayModule.forRoot({ plugins: [TenantPluginModule] }))", async () => {
    const gateway = await started({ config: config(), script: resolve(EXAMPLES, 'main.js'), env: { LOG_LEVEL: 'debug' } });
    await expectTenantPlugin(gateway);
    // onComplete ran in the request's context: its Nest Logger line carries the request's trace id.
    const [line] = await waitForLogLines(gateway, (l) => typeof l.msg === 'string' && l.msg.startsWith('tenant acme: 200'), 1, 'the audit line', 5000);
    expect(line.traceId).toEqual(expect.any(String));
  });

  it('without the plugin loaded, the stock build stops at start naming the field', async () => {
    await expect(started({ config: config() })).rejects.toThrow(/routes\[0\]\.plugins\[0\]\.name: no plugin "tenant" is loaded/);
  });

  it('a GATEWAY_PLUGINS file that exports no Nest module stops the start, naming it', async () => {
    await expect(started({ config: config(), env: { GATEWAY_PLUGINS: resolve(EXAMPLES, 'tenant/tenant.config.js') } })).rejects.toThrow(
      /GATEWAY_PLUGINS: .*tenant\.config\.js exports no Nest module/,
    );
  });
});
