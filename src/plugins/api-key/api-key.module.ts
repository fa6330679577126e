import { Module } from '@nestjs/common';
import { ApiKeyPlugin } from './api-key.plugin';

@Module({ providers: [ApiKeyPlugin] })
export class ApiKeyPluginModule {}
