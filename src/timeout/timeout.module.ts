import { Module } from '@nestjs/common';
import { DeadlineGuard } from './deadline.guard';

@Module({ providers: [DeadlineGuard], exports: [DeadlineGuard] })
export class TimeoutModule {}
