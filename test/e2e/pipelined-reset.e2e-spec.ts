import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import type { ServerResponse } from 'node:http';
import { call } from '../support/http';
import { eventually, samplesOf } from '../support/metrics-text';
import { testResources } from '../support/test-resources';
import { waitFor } from '../support/wait-for';

/*
 * A request pipelined behind a slow one, on a connection the client then resets, still gives
 * back its permits, deadline and access line (docs/configuration.md "Config file reference" `concurrency`: a permit is released
 * exactly once on every path). On Node 20 the queued response never emits 'close' in that case,
 * so without the connection's own 'close' the route stayed at 429 until restart.
 */

const resources = testResources();
const ROUNDS = 1000;

describe('pipelined requests on a connection the client resets', () => {
  it(`${ROUNDS} rounds of GET /slow + GET /limited pipelined, then a reset: every permit gauge back at 0 and /limited still serves`, async () => {
    const arrivals = new EventEmitter();
    arrivals.setMaxListeners(0);
    const held = new Set<ServerResponse>();
    const slow = await resources.upstream((req, res) => {
      held.add(res);
      res.once('close', () => held.delete(res));
      arrivals.emit('change');
    });
    const limited = await resources.upstream((_req, res) => {
      res.end('ok');
      arrivals.emit('change');
    });
    // A queue, not fail-fast: a permit released a moment after the next round's request
    // arrives makes that request wait, not fail; a leaked one never comes back.
    const bulkhead = { limit: 1, queue: 5, queueTimeoutMs: 5000 };
    const gateway = await resources.gatewayWith({
      upstreams: {
        slow: { targets: [slow.url] },
        limited: { targets: [limited.url], concurrency: bulkhead },
      },
      routes: [
        { id: 'slow', path: '/slow', upstream: 'slow', timeoutMs: 120_000 },
        { id: 'limited', path: '/limited', upstream: 'limited', concurrency: bulkhead },
      ],
    });

    for (let round = 0; round < ROUNDS; round++) {
      const socket = connect(gateway.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write('GET /slow HTTP/1.1\r\nHost: gw\r\n\r\nGET /limited HTTP/1.1\r\nHost: gw\r\n\r\n');
      await waitFor(
        arrivals,
        () => slow.requests.length > round && limited.requests.length > round,
        `round ${round}: both pipelined requests at their upstreams (a leaked permit keeps /limited away)`,
        10_000,
      );
      socket.resetAndDestroy();
    }

    const scrape = async (): Promise<string> => (await call(`${gateway.url}/_gateway/metrics`)).text;
    await eventually(async () => {
      const inUse = samplesOf(await scrape(), 'gateway_permits_in_use');
      return inUse.length > 0 && inUse.every((s) => s.value === 0);
    }, 'every gateway_permits_in_use gauge at 0');
    const text = await scrape();
    expect(samplesOf(text, 'gateway_permits_in_use').map((s) => `${s.labels.scope}/${s.labels.name}=${s.value}`).sort()).toEqual([
      'route/limited=0',
      'upstream/limited=0',
    ]);
    expect(samplesOf(text, 'gateway_permits_queued').map((s) => `${s.labels.scope}/${s.labels.name}=${s.value}`).sort()).toEqual([
      'route/limited=0',
      'upstream/limited=0',
    ]);
    // Every /limited request was recorded once (its access line and metrics): none was lost with its response.
    const limitedRequests = samplesOf(text, 'gateway_requests_total').filter((s) => s.labels.route === 'limited');
    expect(limitedRequests.reduce((sum, s) => sum + s.value, 0)).toBe(ROUNDS);
    // /slow was cancelled upstream each time, not left hanging.
    await eventually(() => held.size === 0, 'every /slow upstream request cancelled');

    const after = await call(`${gateway.url}/limited`);
    expect(after.status).toBe(200);
    expect(after.text).toBe('ok');
  }, 180_000);
});
