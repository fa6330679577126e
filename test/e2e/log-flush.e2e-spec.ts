import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { startGatewayProcess, waitForLogLines, type GatewayProcess } from '../support/gateway-process';
import { startUpstream, type UpstreamFixture } from '../support/upstream-fixture';

/*
 * The production log path (src/telemetry/stdout-destination.ts): the gateway process batches its
 * log lines for stdout in 128 KiB writes, flushes what a quiet period leaves behind on a 200 ms
 * timer, and flushes the rest before it exits. Nothing of it runs in the in-process tests, which
 * hand the logger a destination of their own; here `node dist/main.js` writes to a real pipe.
 */

/**
 * About six batches of 128 KiB: several full ones, and a part-filled one at SIGTERM unless the 200 ms
 * timer happens to fire in the few milliseconds between the last response and the exit (so a
 * gateway that lost its buffer at exit fails this test about 5 runs in 6, not every time).
 */
const BURST = 2000;
const BURST_CONCURRENCY = 20;
/** Access lines of this few requests stay well under 128 KiB, so only the timer writes them out. */
const QUIET = 3;
/** Far longer than the 200 ms flush timer needs, even on a loaded machine. */
const TIMER_FLUSH_WAIT_MS = 10_000;
/** Unique per run, in every request id. */
const RUN = randomBytes(4).toString('hex');

const isAccessLineOf =
  (ids: ReadonlySet<string>) =>
  (line: Record<string, unknown>): boolean =>
    line.msg === 'request' && typeof line.requestId === 'string' && ids.has(line.requestId);

describe('log lines on stdout of the gateway process', () => {
  let upstream: UpstreamFixture;
  let gateway: GatewayProcess | undefined;
  let agent: Agent;

  beforeAll(async () => {
    upstream = await startUpstream();
    agent = new Agent({ connections: BURST_CONCURRENCY });
  });

  beforeEach(async () => {
    gateway = await startGatewayProcess({
      config: { upstreams: { echo: { targets: [upstream.url] } }, routes: [{ id: 'echo', path: '/echo/*', upstream: 'echo' }] },
      env: { LOG_LEVEL: 'info' },
    });
  });

  afterEach(async () => {
    await gateway?.kill();
  });

  afterAll(async () => {
    await agent.close();
    await upstream.close();
  });

  async function get(url: string, requestId: string): Promise<number> {
    const res = await request(url, { dispatcher: agent, headers: { 'x-request-id': requestId } });
    await res.body.text();
    return res.statusCode;
  }

  it(`SIGTERM right after the last of ${BURST} responses: every access line is on stdout, and the process exits 0`, async () => {
    const running = gateway!;
    const ids = Array.from({ length: BURST }, (_, i) => `flush-${RUN}-${i}`);
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: BURST_CONCURRENCY }, async () => {
        while (next < ids.length) {
          const id = ids[next++];
          statuses.push(await get(`${running.url}/echo/${id}`, id));
        }
      }),
    );
    const exit = await running.stop('SIGTERM');

    expect(statuses).toEqual(ids.map(() => 200));
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    const accessLines = running.logLines().filter(isAccessLineOf(new Set(ids)));
    const logged = accessLines.map((line) => line.requestId as string);
    // Each request's access line exactly once, none lost in a buffer at exit.
    expect(logged.sort()).toEqual([...ids].sort());
    // And the line the signal itself produced, written moments before the exit.
    expect(running.logLines().filter((line) => line.msg === 'shutting down')).toHaveLength(1);
    const bytes = accessLines.reduce((sum, line) => sum + JSON.stringify(line).length + 1, 0);
    console.log(`log-flush: ${accessLines.length} access lines, ${Math.round(bytes / 1024)} KiB, all on stdout after SIGTERM`);
    expect(bytes).toBeGreaterThan(4 * 128 * 1024);
  });

  it(`${QUIET} requests, far less than 128 KiB of lines, no signal: the flush timer writes their access lines out`, async () => {
    const running = gateway!;
    const ids = Array.from({ length: QUIET }, (_, i) => `quiet-${RUN}-${i}`);
    for (const id of ids) expect(await get(`${running.url}/echo/${id}`, id)).toBe(200);

    const accessLines = await waitForLogLines(running, isAccessLineOf(new Set(ids)), QUIET, `${QUIET} access lines on stdout`, TIMER_FLUSH_WAIT_MS);
    expect(accessLines.map((line) => line.requestId).sort()).toEqual([...ids].sort());
    expect(accessLines.reduce((sum, line) => sum + JSON.stringify(line).length + 1, 0)).toBeLessThan(128 * 1024);
    // Written while the gateway runs, not on its way out.
    expect(running.child.exitCode).toBeNull();
  });
});
