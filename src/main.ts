import 'reflect-metadata';
import { GatewayModule } from './gateway.module';
import { runGateway } from './run-gateway';

/** The stock entry point: the shipped plugins, and those GATEWAY_PLUGINS names. */
void runGateway(GatewayModule.forRoot());
