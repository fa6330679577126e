import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { HealthCheckSettings } from '../config/gateway-config.types';
import { UpstreamRegistry } from '../upstream/upstream-registry.service';
import type { UpstreamClient } from '../upstream/upstream-client';
import type { UpstreamTarget } from '../upstream/upstream-target';

/** How far each interval is moved at random (±10%), so upstreams checked at the same interval drift apart. */
const JITTER = 0.1;

/**
 * Active health checks (docs/configuration.md "Config file reference" `healthCheck`): every `intervalMs`, each target of an
 * upstream that has one gets `GET <target><path>` through the upstream's own control-plane
 * client (its @nestjs/axios HttpService), bounded by `timeoutMs`. A 2xx or 3xx answer is a
 * success; anything else, or no answer, a failure. One timer per upstream, with jitter and a
 * random first delay so fifty upstreams do not probe in lock-step; timers are unref'd and
 * stopped when the gateway stops.
 */
@Injectable()
export class ActiveHealthChecks implements OnApplicationBootstrap, OnApplicationShutdown {
  /** Per upstream name: the client its timer probes, so a reload that replaces the client restarts it. */
  private readonly timers = new Map<string, { client: UpstreamClient; timer: NodeJS.Timeout }>();
  private started = false;
  private stopped = false;

  constructor(private readonly upstreams: UpstreamRegistry) {
    upstreams.onChange(() => {
      if (this.started && !this.stopped) this.follow();
    });
  }

  onApplicationBootstrap(): void {
    this.started = true;
    this.follow();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Timers running now: one per upstream with a healthCheck. */
  get timerCount(): number {
    return this.timers.size;
  }

  /** One timer per live upstream with a healthCheck; upstreams a reload removed or replaced lose theirs. */
  private follow(): void {
    for (const [name, { client, timer }] of this.timers) {
      if (!this.upstreams.names.includes(name) || this.upstreams.client(name) !== client) {
        clearTimeout(timer);
        this.timers.delete(name);
      }
    }
    for (const name of this.upstreams.names) {
      const client = this.upstreams.client(name);
      const check = client.settings.healthCheck;
      if (check !== null && !this.timers.has(name)) this.schedule(name, client, check, Math.random() * Math.min(check.intervalMs, 1000));
    }
  }

  private schedule(name: string, client: UpstreamClient, check: HealthCheckSettings, delayMs: number): void {
    const timer = setTimeout(() => {
      void this.probeAll(name, client, check).finally(() => {
        // Still the live client (no reload replaced it meanwhile) and not stopping: go on.
        if (!this.stopped && this.timers.get(name)?.timer === timer) {
          this.schedule(name, client, check, check.intervalMs * (1 - JITTER + 2 * JITTER * Math.random()));
        }
      });
    }, delayMs);
    timer.unref();
    this.timers.set(name, { client, timer });
  }

  private async probeAll(name: string, client: UpstreamClient, check: HealthCheckSettings): Promise<void> {
    await Promise.all(client.targets.map((target) => this.probe(name, target, check)));
  }

  private async probe(name: string, target: UpstreamTarget, check: HealthCheckSettings): Promise<void> {
    let ok = false;
    let reason: string;
    try {
      const http = await this.upstreams.httpService(name);
      const response = await http.axiosRef.get(`${target.url}${check.path}`, {
        timeout: check.timeoutMs,
        responseType: 'text',
      });
      ok = response.status >= 200 && response.status < 400;
      reason = `GET ${check.path} answered ${response.status}`;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      reason = `GET ${check.path} failed: ${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)}`;
    }
    if (!this.stopped) target.health.probed(ok, reason);
  }
}
