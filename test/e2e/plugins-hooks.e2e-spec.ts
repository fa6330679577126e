import type { RunningGateway } from '../../src/bootstrap';
import { expectGatewayError } from '../support/gateway-error-assertions';
import { NotifyingLogCollector } from '../support/gateway-fixture';
import { makeTempDir, writeTempConfig } from '../support/gateway-process';
import { call } from '../support/http';
import { eventually } from '../support/metrics-text';
import { ADMIN_TOKEN, adminOf, headerOf, saveFile, startFailure, startPluginGateway, traceparentFor } from '../support/plugins/plugin-gateway';
import { TestHooksPlugin, THROW_TRIGGER, TRAIL } from '../support/plugins/test-plugins.module';
import { startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * docs/plugins.md "Write your own plugin": a team's plugin module (test/support/plugins) loaded beside the
 * shipped ones, every hook seen from outside: header edits at the upstream and the client,
 * consumers counted by rateLimit, refusals and answers without the upstream, order, async hooks,
 * failures as 500 plugin_error that release the route, defaults.plugins, and config errors.
 */

const hooks = (tag: string, extra: Record<string, unknown> = {}): unknown => ({ name: 'test-hooks', config: { tag, ...extra } });
const STAMP = { name: 'test-stamp' };
const route = (id: string, plugins?: unknown[], extra: Record<string, unknown> = {}): unknown => ({ id, path: `/${id}`, upstream: 'app', ...(plugins ? { plugins } : {}), ...extra });

let upstream: UpstreamFixture;
let gateway: RunningGateway;
const logs = new NotifyingLogCollector();
const get = (path: string, headers: Record<string, string> = {}): ReturnType<typeof call> => call(`${gateway.url}${path}`, { headers });
const reached = (path: string): number => upstream.requests.filter((r) => r.url.split('?')[0] === path).length;
const lastAt = (path: string): Record<string, string | string[] | undefined> => upstream.requests.filter((r) => r.url.split('?')[0] === path).at(-1)!.headers;

beforeAll(async () => {
  upstream = await startUpstream();
  const one = { concurrency: { limit: 1 } };
  gateway = await startPluginGateway(
    {
      upstreams: { app: { targets: [upstream.url] } },
      defaults: { plugins: [hooks('default')] },
      routes: [
        route('headers', [hooks('h', { setRequestHeaders: { 'x-added': 'by-plugin', 'x-replaced': 'new' }, removeRequestHeaders: ['x-secret'], setResponseHeaders: { 'x-resp-added': 'yes' }, removeResponseHeaders: ['x-upstream'] })]),
        route('metered', [hooks('m', { consumerFrom: 'x-test-consumer' })], { rateLimit: { limit: 2, windowMs: 60_000, key: 'consumer' } }),
        route('refuse', [hooks('r', { action: 'refuse' })]),
        route('refuse-helper', [hooks('rh', { action: 'refuse-helper' })]),
        route('refuse-async', [hooks('ra', { action: 'refuse', async: true })]),
        route('respond', [hooks('answer', { action: 'respond' }), hooks('after')]),
        route('respond-async', [hooks('answer', { action: 'respond', async: true }), hooks('after')]),
        route('order', [STAMP, hooks('hooks')]),
        route('order-reversed', [hooks('hooks'), STAMP]),
        route('async', [hooks('a1', { async: true }), STAMP, hooks('a3', { async: true })]),
        route('fragile', [hooks('f', { throwIn: 'beforeUpstream' })], one),
        route('fragile-async', [hooks('fa', { throwIn: 'beforeUpstream', async: true })], one),
        route('fragile-response', [hooks('fr', { throwIn: 'onResponse' })], one),
        route('plain'),
        route('bare', []),
      ],
    },
    { adminToken: ADMIN_TOKEN },
    logs,
  );
});

afterAll(async () => {
  await upstream.close();
  await gateway.close();
});

describe('beforeUpstream and onResponse', () => {
  it('adds, replaces and removes request headers the upstream sees, and response headers the client sees', async () => {
    const res = await get('/headers', { 'x-secret': 's3cret', 'x-replaced': 'old' });
    expect(res.status).toBe(200);
    const seen = lastAt('/headers');
    expect(seen).toMatchObject({ 'x-added': 'by-plugin', 'x-replaced': 'new', [TRAIL]: 'h' });
    expect(seen['x-secret']).toBeUndefined();
    expect(res.headers['x-resp-added']).toBe('yes');
    expect(res.headers[TRAIL]).toBe('h');
    // The echo upstream always sends x-upstream: the plugin removed it.
    expect(res.headers['x-upstream']).toBeUndefined();
  });

  it('sets the consumer that rateLimit key consumer counts by', async () => {
    const as = async (consumer: string): Promise<number> => (await get('/metered', { 'x-test-consumer': consumer })).status;
    const statuses = [await as('ann'), await as('ann'), await as('ann'), await as('bob'), await as('bob')];
    expect(statuses).toEqual([200, 200, 429, 200, 200]);
  });

  it('runs two plugins in the route’s order, in both hooks', async () => {
    for (const [path, trail] of [['/order', 'stamp,hooks'], ['/order-reversed', 'hooks,stamp']]) {
      const res = await get(path);
      expect([path, lastAt(path)[TRAIL], res.headers[TRAIL]]).toEqual([path, trail, trail]);
    }
  });

  it('waits for a beforeUpstream that returns a promise, then runs the rest of the chain', async () => {
    const res = await get('/async');
    expect(res.status).toBe(200);
    expect(lastAt('/async')[TRAIL]).toBe('a1,stamp,a3');
    expect(res.headers[TRAIL]).toBe('a1,stamp,a3');
  });
});

describe('refusing and answering', () => {
  it.each([
    ['refuse', 403, 'forbidden', 'r refuses /refuse', 'x-refused-by', 'r'],
    ['refuse-helper', 401, 'unauthorized', 'rh wants credentials', 'www-authenticate', 'Test realm="rh"'],
    ['refuse-async', 403, 'forbidden', 'ra refuses /refuse-async', 'x-refused-by', 'ra'],
  ])('/%s: %i %s with the plugin’s message and headers, and the upstream is never called', async (id, status, code, message, header, value) => {
    const res = await get(`/${id}`);
    expect(expectGatewayError(res, status, code, id).message).toBe(message);
    expect(res.headers[header]).toBe(value);
    expect((await get('/plain')).status).toBe(200);
    expect(reached(`/${id}`)).toBe(0);
  });

  it.each(['respond', 'respond-async'])('/%s: respond() answers without the upstream or the plugins after it', async (id) => {
    const res = await get(`/${id}`);
    expect(res.status).toBe(202);
    expect(res.headers['x-answered-by']).toBe('answer');
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(res.headers[TRAIL]).toBeUndefined();
    expect(res.text).toBe('');
    // The client has its answer before the pipeline would go on: a later request is the barrier.
    expect((await get('/plain')).status).toBe(200);
    expect(reached(`/${id}`)).toBe(0);
    expect(gateway.app.get(TestHooksPlugin).ran.filter((r) => r.startsWith(`${id}:`))).toEqual([`${id}:answer`]);
  });
});

describe('onComplete', () => {
  const completionOf = async (requestId: string): Promise<Record<string, unknown>> => {
    const plugin = gateway.app.get(TestHooksPlugin);
    await eventually(() => plugin.completions.some((c) => c.requestId === requestId), `the completion of ${requestId}`);
    return { ...plugin.completions.find((c) => c.requestId === requestId)! };
  };

  it('gets the status, duration, ids and consumer of every request, refused and answered ones too', async () => {
    const trace = traceparentFor(1);
    const ok = await get('/metered?audit=1', { 'x-test-consumer': 'auditor', traceparent: trace.header });
    const done = await completionOf(headerOf(ok, 'x-request-id')!);
    expect(done).toMatchObject({ tag: 'm', method: 'GET', url: '/metered?audit=1', route: 'metered', status: 200, consumerId: 'auditor', traceId: trace.traceId });
    expect(done.durationMs).toBeGreaterThan(0);
    expect(done.durationMs).toBeLessThan(5000);
    const refused = await get('/refuse');
    expect(await completionOf(headerOf(refused, 'x-request-id')!)).toMatchObject({ tag: 'r', route: 'refuse', status: 403, consumerId: null });
    const answered = await get('/respond');
    expect(await completionOf(headerOf(answered, 'x-request-id')!)).toMatchObject({ tag: 'answer', status: 202 });
  });
});

describe('a plugin that throws', () => {
  const stats = (): ReturnType<ReturnType<typeof adminOf>['stats']> => adminOf(gateway).stats();

  it.each([
    ['fragile', 'beforeUpstream', 0x10],
    ['fragile-async', 'beforeUpstream', 0x11],
    ['fragile-response', 'onResponse', 0x12],
  ])('/%s (in %s): 500 plugin_error with route and traceId, logged with the plugin and the traceId, the route released', async (id, hook, n) => {
    const trace = traceparentFor(n);
    const before = reached(`/${id}`);
    const res = await get(`/${id}`, { [THROW_TRIGGER]: '1', traceparent: trace.header });
    expect(expectGatewayError(res, 500, 'plugin_error', id).traceId).toBe(trace.traceId);
    const [line] = await logs.waitForLines((l) => l.traceId === trace.traceId && l.level === 'error' && JSON.stringify(l).includes('test-hooks'), 1, `the ${id} failure`);
    expect(JSON.stringify(line)).toContain(`broke in ${hook}`);
    // concurrency limit 1: a permit kept by the failed request would make this a 429.
    const next = await get(`/${id}`);
    expect(next.status).toBe(200);
    // Besides `next`: a beforeUpstream failure never reaches the upstream; onResponse runs on its answer.
    expect(reached(`/${id}`) - before).toBe(hook === 'onResponse' ? 2 : 1);
    await eventually(async () => {
      const figures = (await stats())[id];
      return figures.inFlight === 0 && figures.permitsInUse === 0 && figures.queued === 0;
    }, `route ${id} idle`);
  });
});

describe('defaults.plugins', () => {
  it('applies to routes without plugins of their own, not to a route with its own or with plugins: []', async () => {
    expect((await get('/plain')).headers[TRAIL]).toBe('default');
    expect(lastAt('/plain')[TRAIL]).toBe('default');
    expect((await get('/bare')).headers[TRAIL]).toBeUndefined();
    expect(lastAt('/bare')[TRAIL]).toBeUndefined();
    await get('/headers');
    expect(lastAt('/headers')[TRAIL]).toBe('h');
  });
});

describe('plugin config errors', () => {
  it('stop start-up, every problem listed and each naming its field', async () => {
    const lines = await startFailure({
      upstreams: { app: { targets: ['http://127.0.0.1:9'] } },
      defaults: { plugins: [hooks('BAD')] },
      routes: [
        route('unknown', [{ name: 'no-such-plugin' }]),
        route('bad', [STAMP, hooks('Not A Tag', { colour: 'red' })]),
        route('stamp', [{ name: 'test-stamp', config: { tag: 'x' } }]),
        route('keys', [{ name: 'api-key', config: { keysFile: '/nonexistent/plugins-e2e/keys.yaml' } }]),
        route('inherits-1'),
        route('inherits-2'),
      ],
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^config: routes\[0\]\.plugins\[0\]\.name: no plugin "no-such-plugin" is loaded \(loaded: .*test-hooks/),
        expect.stringMatching(/^config: routes\[2\]\.plugins\[0\]\.config: plugin "test-stamp" takes no config/),
        expect.stringMatching(/^config: routes\[3\]\.plugins\[0\]\.config(\.|: )keysFile: cannot read \/nonexistent\/plugins-e2e\/keys\.yaml \(ENOENT\)/),
        expect.stringMatching(/^config: defaults\.plugins\[0\]\.config\.tag: /),
      ]),
    );
    expect(lines.join('\n')).toMatch(/routes\[1\]\.plugins\[1\]\.config\.tag: tag must be a lower-case tag/);
    expect(lines.join('\n')).toMatch(/routes\[1\]\.plugins\[1\]\.config\.colour: unknown field/);
    // Inherited by two routes, reported once, at defaults.
    expect(lines.filter((l) => l.includes('defaults.plugins')).length).toBe(1);
    expect(lines.join('\n')).not.toMatch(/routes\[[45]\]/);
  });

  // KNOWN BUG, src/plugins/plugin-chain.ts:54: a plugin config with two bad fields becomes ONE
  // problem joined by '\n', so the second line has no `config: ` prefix and admin reload's `errors`
  // holds one string for two problems. Remove `.failing` once each field is its own line.
  it('list each bad field of one plugin config as a line of its own', async () => {
    const lines = await startFailure({ upstreams: { app: { targets: ['http://127.0.0.1:9'] } }, routes: [route('bad', [hooks('Not A Tag', { colour: 'red' })])] });
    expect([...lines].sort()).toEqual([
      'config: routes[0].plugins[0].config.colour: unknown field (check the spelling)',
      'config: routes[0].plugins[0].config.tag: tag must be a lower-case tag',
    ]);
  });

  // KNOWN GAP, src/plugins/plugin-chain.ts:26-40: defaults.plugins are only checked through the
  // routes that inherit them, so a bad default no route uses yet starts fine (and fails a later
  // reload that adds such a route). Remove `.failing` once a bad default always stops start-up.
  it('refuse a bad defaults.plugins even when every route has plugins of its own', async () => {
    const lines = await startFailure({ upstreams: { app: { targets: ['http://127.0.0.1:9'] } }, defaults: { plugins: [{ name: 'no-such-plugin' }] }, routes: [route('own', [])] });
    expect(lines).toEqual([expect.stringMatching(/^config: defaults\.plugins\[0\]\.name: no plugin "no-such-plugin"/)]);
  });

  it('refuse a reload with 400 naming the field while the old plugins keep serving; a good reload reconfigures them', async () => {
    const configWith = (plugin: unknown): unknown => ({ upstreams: { app: { targets: [upstream.url] } }, routes: [route('live', [plugin])] });
    const path = await writeTempConfig(configWith(hooks('v1')), 'gateway.json', await makeTempDir());
    const live = await startPluginGateway(configWith(hooks('v1')), { configPath: path, adminToken: ADMIN_TOKEN });
    try {
      const trail = async (): Promise<unknown> => (await call(`${live.url}/live`)).headers[TRAIL];
      expect(await trail()).toBe('v1');
      await saveFile(path, configWith(hooks('v2', { removeRequestHeaders: 'x-not-a-list' })));
      const refused = await adminOf(live).reload();
      expect(refused.status).toBe(400);
      const body = refused.json<{ code: string; errors: string[] }>();
      expect(body.code).toBe('invalid_config');
      expect(body.errors).toEqual([expect.stringMatching(/^config: routes\[0\]\.plugins\[0\]\.config\.removeRequestHeaders: /)]);
      expect(await trail()).toBe('v1');
      await saveFile(path, configWith(hooks('v3')));
      expect((await adminOf(live).reload()).status).toBe(200);
      expect(await trail()).toBe('v3');
      expect(live.app.get(TestHooksPlugin).configured).toEqual(['live:v1', 'live:v3']);
    } finally {
      await live.close();
    }
  });
});
