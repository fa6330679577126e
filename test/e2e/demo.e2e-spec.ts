import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { gatewayChildEnv } from '../support/gateway-process';
import { call } from '../support/http';
import { closedPort } from '../support/upstream-fixture';

/*
 * README "Quick start": `npm run demo` with its example services moved off 3001-3003
 * (DEMO_USERS_PORT, DEMO_ORDERS_PORT, DEMO_SLOW_PORT) routes to them, and Ctrl-C stops it all.
 */

const ROOT = resolve(__dirname, '../..');

it('the demo runs its services on the ports given, and the gateway reaches them there', async () => {
  const [users, orders, slow] = [await closedPort(), await closedPort(), await closedPort()];
  const demo = spawn(process.execPath, [resolve(ROOT, 'examples/demo.js')], {
    cwd: ROOT,
    env: gatewayChildEnv({ GATEWAY_PORT: '0', GATEWAY_HOST: '127.0.0.1', LOG_LEVEL: 'warn', DEMO_USERS_PORT: String(users), DEMO_ORDERS_PORT: String(orders), DEMO_SLOW_PORT: String(slow) }),
  });
  let stdout = '';
  demo.stderr.resume();
  const url = await new Promise<string>((done, fail) => {
    demo.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /The gateway is listening on (http:\/\/\S+) with/.exec(stdout);
      if (match) done(match[1]);
    });
    demo.once('exit', (code) => fail(new Error(`the demo exited (${code}) before the gateway listened:\n${stdout}`)));
  });
  try {
    expect(stdout).toContain(`services on users :${users}, orders :${orders}, slow :${slow}`);
    const res = await call(`${url}/api/users/42`);
    expect(res.status).toBe(200);
    // The users service says where it runs.
    expect(res.text).toContain(String(users));
  } finally {
    demo.kill('SIGINT');
    await once(demo, 'exit');
  }
}, 40_000);
