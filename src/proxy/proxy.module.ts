import { Module } from '@nestjs/common';
import { UpstreamModule } from '../upstream/upstream.module';
import { ProxyController } from './proxy.controller';
import { ProxyService } from './proxy.service';
import { WebSocketForwarder } from '../websocket/websocket-forwarder';

@Module({
  imports: [UpstreamModule],
  controllers: [ProxyController],
  providers: [ProxyService, WebSocketForwarder],
})
export class ProxyModule {}
