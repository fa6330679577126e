import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { ConfigFileWatch } from '../config/config-file-watch';
import { GATEWAY_ENVIRONMENT } from '../config/config.tokens';
import type { GatewayEnvironment } from '../config/environment';
import type { GatewayLogger } from '../logging/gateway-logger';
import { GATEWAY_LOGGER } from '../telemetry/telemetry.tokens';
import { ConfigReloader } from './config-reloader.service';

/** Editors fire several events per save; one reload after they settle. */
const DEBOUNCE_MS = 200;

/** Reloads the config when its file changes, from start until the gateway stops. */
@Injectable()
export class ConfigFileReloads implements OnApplicationBootstrap, OnApplicationShutdown {
  private watch: ConfigFileWatch | null = null;

  constructor(
    @Inject(GATEWAY_ENVIRONMENT) private readonly environment: GatewayEnvironment,
    private readonly reloader: ConfigReloader,
    @Inject(GATEWAY_LOGGER) private readonly logger: GatewayLogger,
  ) {}

  onApplicationBootstrap(): void {
    // A gateway built from a config object in code (tests, embedders) has no file to follow.
    if (!existsSync(this.environment.configPath)) return;
    this.watch = new ConfigFileWatch(
      this.environment.configPath,
      DEBOUNCE_MS,
      () => void this.reloader.reload('file'),
      (error) => this.logger.warn({ context: 'Config', msg: 'config file watch failed; reload with SIGHUP or the admin API', error: error.message }),
    );
    this.watch.start();
  }

  onApplicationShutdown(): void {
    this.watch?.close();
    this.watch = null;
  }

  get watching(): boolean {
    return this.watch !== null;
  }
}
