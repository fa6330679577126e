import { Module } from '@nestjs/common';
import { UpstreamRegistry } from './upstream-registry.service';

@Module({
  providers: [UpstreamRegistry],
  exports: [UpstreamRegistry],
})
export class UpstreamModule {}
