import { readFileSync } from 'node:fs';
import { call } from '../support/http';
import { closedPort } from '../support/upstream-fixture';

/*
 * The "nothing listens here" port that upstream-failure tests point routes at. It must stay
 * closed for the whole test: a port taken from the kernel's ephemeral range and released can be
 * handed to the next server that listens on port 0 (a CI run once gave it to the gateway under
 * test, which then proxied the request to itself until its rate limit answered 429).
 */

function ephemeralLow(): number {
  return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
}

describe('closedPort', () => {
  it('is below the ephemeral range, so no server listening on port 0 can be given it, and refuses connections', async () => {
    const port = await closedPort();
    expect(port).toBeGreaterThanOrEqual(1024);
    expect(port).toBeLessThan(ephemeralLow());
    await expect(call(`http://127.0.0.1:${port}/`)).rejects.toHaveProperty('code', 'ECONNREFUSED');
  });
});
