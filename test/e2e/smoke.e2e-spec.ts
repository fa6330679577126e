import type { RunningGateway } from '../../src/bootstrap';
import { startTestGateway } from '../support/gateway-fixture';
import { call } from '../support/http';
import { startUpstream, type EchoBody, type UpstreamFixture } from '../support/upstream-fixture';

describe('smoke: a request goes through the gateway and back', () => {
  let upstream: UpstreamFixture;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startUpstream();
    gateway = await startTestGateway({
      upstreams: { echo: { targets: [upstream.url] } },
      routes: [{ id: 'users', path: '/api/users/:id', upstream: 'echo', rewrite: '/v1/users/:id' }],
    });
  });

  afterAll(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('rewrites the path, keeps the query and passes the upstream answer through', async () => {
    const res = await call(`${gateway.url}/api/users/42?expand=1`);
    expect(res.status).toBe(200);
    expect(res.headers['x-upstream']).toBe('echo');
    expect(res.json<EchoBody>().url).toBe('/v1/users/42?expand=1');
  });
});
