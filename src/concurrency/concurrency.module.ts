import { Module } from '@nestjs/common';
import { ConcurrencyGuard } from './concurrency.guard';
import { PermitRegistry } from './permit-registry.service';

@Module({ providers: [PermitRegistry, ConcurrencyGuard], exports: [PermitRegistry, ConcurrencyGuard] })
export class ConcurrencyModule {}
