import { DynamicModule, Global, Module } from '@nestjs/common';
import { TrafficGate } from './traffic-gate';

/** Hands the gate made in bootstrap.ts (the HTTP server uses it before Nest exists) to every module. */
@Global()
@Module({})
export class LifecycleModule {
  static forRoot(gate: TrafficGate): DynamicModule {
    return { module: LifecycleModule, providers: [{ provide: TrafficGate, useValue: gate }], exports: [TrafficGate] };
  }
}
