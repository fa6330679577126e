import type { RunningGateway } from '../../src/bootstrap';
import { startTestGateway } from './gateway-fixture';
import { startUpstream, type FixtureHandler, type UpstreamFixture } from './upstream-fixture';

/** What a spec file starts and wants closed once its tests are done. */
export interface TestResources {
  /** Registers `close` (an upstream, a listener, a worker…) to run in afterAll, before any gateway closes. */
  addCloser(close: () => Promise<void>): void;
  /** Starts a node:http upstream (see startUpstream) that is closed in afterAll. */
  upstream(handler?: FixtureHandler): Promise<UpstreamFixture>;
  /** Starts the gateway in this process with `config` (see startTestGateway); closed in afterAll. */
  gatewayWith(config: unknown): Promise<RunningGateway>;
}

/**
 * Registers an afterAll hook in the calling scope (call it at the top of a spec file) that runs
 * every registered closer in registration order, then closes every gateway: upstreams first, so a
 * request still held by one ends and the gateway can close.
 */
export function testResources(): TestResources {
  const closers: Array<() => Promise<void>> = [];
  const gateways: RunningGateway[] = [];

  afterAll(async () => {
    for (const close of closers.splice(0)) await close();
    for (const gateway of gateways.splice(0)) await gateway.close();
  });

  return {
    addCloser: (close) => {
      closers.push(close);
    },
    upstream: async (handler) => {
      const fixture = await startUpstream(handler);
      closers.push(() => fixture.close());
      return fixture;
    },
    gatewayWith: async (config) => {
      const gateway = await startTestGateway(config);
      gateways.push(gateway);
      return gateway;
    },
  };
}
