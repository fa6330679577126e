import { DynamicModule, Module } from '@nestjs/common';
import { createLiveController } from './live.controller';

@Module({})
export class HealthModule {
  static forRoot(managementPrefix: string): DynamicModule {
    return { module: HealthModule, controllers: [createLiveController(managementPrefix)] };
  }
}
