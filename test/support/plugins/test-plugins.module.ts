import { Injectable, Module } from '@nestjs/common';
import { IsArray, IsBoolean, IsIn, IsObject, IsOptional, IsString, Matches } from 'class-validator';
import { GatewayError } from '../../../src/errors/gateway-error';
import { GatewayPluginBase, type PluginCompletion, type PluginRequest, type PluginResponse } from '../../../src/plugins/gateway-plugin';

/*
 * Plugins for the plugin API tests, loaded the way a team loads its own: a Nest module whose
 * providers are @Injectable plugin classes. `test-hooks` does what its config says in every
 * hook; `test-stamp` takes no config and only marks the trail. Both append to the request
 * header (seen by the upstream) and the response header (seen by the client) TRAIL, so a test
 * reads the order the plugins ran in.
 */

export const TRAIL = 'x-plugin-trail';
/** A request carrying this header makes a `throwIn` plugin throw in that hook. */
export const THROW_TRIGGER = 'x-test-throw';

export const ACTIONS = ['pass', 'refuse', 'refuse-helper', 'respond'] as const;

export class TestHooksConfig {
  @IsString() @Matches(/^[a-z][a-z0-9-]*$/, { message: '$property must be a lower-case tag' }) tag!: string;
  @IsOptional() @IsIn(ACTIONS) action?: (typeof ACTIONS)[number];
  /** beforeUpstream returns a promise that settles on a later tick. */
  @IsOptional() @IsBoolean() async?: boolean;
  @IsOptional() @IsIn(['beforeUpstream', 'onResponse']) throwIn?: 'beforeUpstream' | 'onResponse';
  @IsOptional() @IsObject() setRequestHeaders?: Record<string, string>;
  @IsOptional() @IsArray() @IsString({ each: true }) removeRequestHeaders?: string[];
  /** The consumer is this request header's value. */
  @IsOptional() @IsString() consumerFrom?: string;
  @IsOptional() @IsObject() setResponseHeaders?: Record<string, string>;
  @IsOptional() @IsArray() @IsString({ each: true }) removeResponseHeaders?: string[];
}

export interface HooksState extends TestHooksConfig {
  readonly route: string;
}

export type RecordedCompletion = PluginCompletion & { readonly tag: string };

function append(current: string | string[] | number | undefined, tag: string): string {
  return current === undefined ? tag : `${String(current)},${tag}`;
}

@Injectable()
export class TestHooksPlugin extends GatewayPluginBase<TestHooksConfig, HooksState> {
  readonly name = 'test-hooks';
  readonly configClass = TestHooksConfig;
  /** `route:tag` for every configure call (start and each reload). */
  readonly configured: string[] = [];
  readonly completions: RecordedCompletion[] = [];
  /** `route:tag` for every beforeUpstream that ran its body. */
  readonly ran: string[] = [];

  configure(config: TestHooksConfig, route: string): HooksState {
    this.configured.push(`${route}:${config.tag}`);
    return { ...config, route };
  }

  beforeUpstream(request: PluginRequest, state: HooksState): void | Promise<void> {
    if (!state.async) return this.before(request, state);
    return new Promise<void>((resolve) => setTimeout(resolve, 5)).then(() => this.before(request, state));
  }

  onResponse(response: PluginResponse, state: HooksState): void {
    if (state.throwIn === 'onResponse' && response.request.headers[THROW_TRIGGER] !== undefined) throw new Error(`${state.tag} broke in onResponse`);
    response.setHeader(TRAIL, append(response.headers[TRAIL], state.tag));
    for (const [name, value] of Object.entries(state.setResponseHeaders ?? {})) response.setHeader(name, value);
    for (const name of state.removeResponseHeaders ?? []) response.removeHeader(name);
  }

  onComplete(completion: PluginCompletion, state: HooksState): void {
    this.completions.push({ ...completion, tag: state.tag });
  }

  private before(request: PluginRequest, state: HooksState): void {
    this.ran.push(`${state.route}:${state.tag}`);
    if (state.throwIn === 'beforeUpstream' && request.headers[THROW_TRIGGER] !== undefined) throw new Error(`${state.tag} broke in beforeUpstream`);
    request.setRequestHeader(TRAIL, append(request.headers[TRAIL], state.tag));
    for (const [name, value] of Object.entries(state.setRequestHeaders ?? {})) request.setRequestHeader(name, value);
    for (const name of state.removeRequestHeaders ?? []) request.removeRequestHeader(name);
    const consumer = state.consumerFrom === undefined ? undefined : request.headers[state.consumerFrom];
    if (typeof consumer === 'string') request.setConsumer(consumer);
    if (state.action === 'refuse') throw new GatewayError('forbidden', `${state.tag} refuses ${request.url}`, { 'x-refused-by': state.tag });
    if (state.action === 'refuse-helper') request.refuse('unauthorized', `${state.tag} wants credentials`, { 'www-authenticate': `Test realm="${state.tag}"` });
    if (state.action === 'respond') request.respond(202, { 'x-answered-by': state.tag });
  }
}

@Injectable()
export class TestStampPlugin extends GatewayPluginBase {
  readonly name = 'test-stamp';

  beforeUpstream(request: PluginRequest): void {
    request.setRequestHeader(TRAIL, append(request.headers[TRAIL], 'stamp'));
  }

  onResponse(response: PluginResponse): void {
    response.setHeader(TRAIL, append(response.headers[TRAIL], 'stamp'));
  }
}

@Module({ providers: [TestHooksPlugin, TestStampPlugin] })
export class TestPluginsModule {}
