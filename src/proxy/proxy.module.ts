import { Module } from '@nestjs/common';
import { UpstreamModule } from '../upstream/upstream.module';
import { ProxyController } from './proxy.controller';
import { ProxyService } from './proxy.service';

@Module({
  imports: [UpstreamModule],
  controllers: [ProxyController],
  providers: [ProxyService],
})
export class ProxyModule {}
