import { GatewayMetrics } from './gateway-metrics';

/** The gateway_requests_total samples of the exposition, as "labels value" lines. */
async function requestSamples(metrics: GatewayMetrics): Promise<string[]> {
  const text = await metrics.registry.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith('gateway_requests_total{'))
    .sort();
}

describe('RouteMeters (gateway_requests_total and the per-route series)', () => {
  it('counts by route, method (OTHER beyond the known names), status class and code', async () => {
    const metrics = new GatewayMetrics();
    const meters = metrics.routeMeters('r1');
    meters.countRequest('GET', 200, null);
    meters.countRequest('GET', 204, null);
    meters.countRequest('PROPFIND', 207, null);
    meters.countRequest(undefined, 200, null);
    meters.countRequest('GET', 504, 'upstream_timeout');
    meters.countRequest('DELETE', 499, 'client_closed');
    metrics.routeMeters('r2').countRequest('POST', 700, null);
    metrics.routeMeters('').countRequest('GET', 404, 'no_route');
    expect(await requestSamples(metrics)).toEqual(
      [
        'gateway_requests_total{route="r1",method="GET",status_class="2xx",code=""} 2',
        'gateway_requests_total{route="r1",method="OTHER",status_class="2xx",code=""} 2',
        'gateway_requests_total{route="r1",method="GET",status_class="5xx",code="upstream_timeout"} 1',
        'gateway_requests_total{route="r1",method="DELETE",status_class="4xx",code="client_closed"} 1',
        'gateway_requests_total{route="r2",method="POST",status_class="other",code=""} 1',
        'gateway_requests_total{route="",method="GET",status_class="4xx",code="no_route"} 1',
      ].sort(),
    );
  });

  it('is resolved once per route: the same meters, the same series', async () => {
    const metrics = new GatewayMetrics();
    expect(metrics.routeMeters('r')).toBe(metrics.routeMeters('r'));
    metrics.routeMeters('r').duration.observe(0.002);
    metrics.routeMeters('r').responseBytes.value += 10;
    metrics.routeMeters('r').responseBytes.value += 5;
    const text = await metrics.registry.metrics();
    expect(text).toContain('gateway_request_duration_seconds_count{route="r"} 1');
    expect(text).toContain('gateway_response_bytes_total{route="r"} 15');
  });
});
