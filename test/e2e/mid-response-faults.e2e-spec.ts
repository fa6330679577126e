import { connect, type Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import type { RunningGateway } from '../../src/bootstrap';
import { NotifyingLogCollector, startTestGateway } from '../support/gateway-fixture';
import { call } from '../support/http';
import { samplesOf } from '../support/metrics-text';
import { startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * Faults once a response has started streaming to the client: an upstream that dies mid-body
 * is the upstream's failure (logged truncated, counted as an upstream error), not a client
 * abort; and a malformed request arriving on a connection whose response is streaming cuts
 * the connection rather than writing an error response into the middle of that body.
 */

let gateway: RunningGateway;
let logs: NotifyingLogCollector;
let upstream: UpstreamFixture;
const streaming = new Set<ServerResponse>();

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url === '/dies-mid-body') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' });
      // Part of the body, then the upstream process "crashes": its connection is reset.
      res.write('x'.repeat(1000), () => res.socket?.resetAndDestroy());
      return;
    }
    // /stream: a body that keeps coming until the test is done with it.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('y'.repeat(100));
    streaming.add(res);
    res.once('close', () => streaming.delete(res));
  });
  logs = new NotifyingLogCollector();
  gateway = await startTestGateway(
    {
      upstreams: { flaky: { targets: [upstream.url] } },
      routes: [{ id: 'flaky', path: '/*', upstream: 'flaky' }],
    },
    { logLevel: 'info' },
    logs,
  );
});

afterAll(async () => {
  for (const res of streaming) res.destroy();
  await upstream.close();
  await gateway.close();
});

/** Connects, writes `first`, and collects everything the gateway sends until the socket closes. */
function rawClient(first: string): { socket: Socket; received: () => string; closed: Promise<void>; when(text: string): Promise<void> } {
  const socket = connect(gateway.port, '127.0.0.1');
  let received = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  socket.setEncoding('latin1');
  socket.on('error', () => undefined);
  socket.on('data', (chunk: string) => {
    received += chunk;
    for (const waiter of waiters.splice(0)) {
      if (received.includes(waiter.text)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(first);
  return {
    socket,
    received: () => received,
    closed,
    when: (text) =>
      new Promise<void>((resolve, reject) => {
        if (received.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void closed.then(() => reject(new Error(`connection closed before ${JSON.stringify(text)} arrived; got ${JSON.stringify(received.slice(0, 300))}`)));
      }),
  };
}

describe('an upstream that dies after the response started', () => {
  it('is logged as the upstream failure it is (truncated, upstream_unreachable), not as a 499 client abort, and counted as an upstream reset', async () => {
    const client = rawClient('GET /dies-mid-body HTTP/1.1\r\nHost: gw\r\nX-Request-Id: dies-mid-body-1\r\n\r\n');
    await client.closed;

    expect(client.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(client.received().length).toBeLessThan(100_000);
    const line = await logs.accessLineOf('dies-mid-body-1');
    expect(line).toMatchObject({ status: 200, code: 'upstream_unreachable', truncated: true, route: 'flaky' });
    const metrics = (await call(`${gateway.url}/_gateway/metrics`)).text;
    const errors = samplesOf(metrics, 'gateway_upstream_errors_total').filter((s) => s.labels.upstream === 'flaky');
    expect(errors.map((s) => `${s.labels.kind}=${s.value}`)).toEqual(['reset=1']);
  });
});

describe('a malformed request on a connection whose response is streaming', () => {
  it('closes the connection instead of writing a 400 into the middle of the body', async () => {
    const client = rawClient('GET /stream HTTP/1.1\r\nHost: gw\r\nX-Request-Id: streaming-1\r\n\r\n');
    await client.when('yyyy');
    client.socket.write('NOT AN HTTP REQUEST\r\n\r\n');
    await client.closed;

    expect(client.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(client.received()).not.toContain('HTTP/1.1 400');
    expect(client.received().match(/HTTP\/1\.1 /g)).toHaveLength(1);
    const line = await logs.accessLineOf('streaming-1');
    expect(line).toMatchObject({ status: 499, code: 'client_closed' });
  });

  it('still answers a malformed request with the JSON 400 when nothing else is on the connection', async () => {
    const client = rawClient('NOT AN HTTP REQUEST\r\n\r\n');
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(client.received()).toContain('"code":"bad_request"');
  });
});
