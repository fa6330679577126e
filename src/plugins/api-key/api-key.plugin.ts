import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { GatewayError } from '../../errors/gateway-error';
import { GatewayPluginBase, type PluginRequest } from '../gateway-plugin';
import { ApiKeyConfig } from './api-key.config';
import { loadApiKeys, type ApiKeys } from './api-key-store';

/**
 * `api-key` (docs/plugins.md "Plugins"): the request must carry a known key in the configured header.
 * The key is hashed and looked up by digest (what is compared is a SHA-256, so the lookup's
 * timing says nothing about the key); the header is removed before forwarding, and the key's id
 * goes upstream as `X-Consumer-Id` (replacing any the client sent) and becomes the request's
 * consumer for `rateLimit.key: consumer`. No key or an unknown one: 401 unauthorized.
 */
@Injectable()
export class ApiKeyPlugin extends GatewayPluginBase<ApiKeyConfig, ApiKeys> {
  readonly name = 'api-key';
  readonly configClass = ApiKeyConfig;

  configure(config: ApiKeyConfig): ApiKeys {
    return loadApiKeys(config);
  }

  beforeUpstream(request: PluginRequest, keys: ApiKeys): void {
    const presented = request.headers[keys.header];
    const key = Array.isArray(presented) ? undefined : presented;
    if (key === undefined || key === '') throw unauthorized(keys.header, `this route needs an API key in ${keys.header}`, false);
    // One-shot hash(): a third of createHash().update().digest()'s cost, and no Hash object per request.
    const id = keys.idByDigest.get(hash('sha256', key, 'hex'));
    if (id === undefined) throw unauthorized(keys.header, `the API key in ${keys.header} is not valid`, true);
    request.removeRequestHeader(keys.header);
    request.setRequestHeader('x-consumer-id', id);
    request.setConsumer(id);
  }
}

function unauthorized(header: string, message: string, presented: boolean): GatewayError {
  return new GatewayError('unauthorized', message, {
    'www-authenticate': `ApiKey realm="gateway", header="${header}"${presented ? ', error="invalid_key"' : ''}`,
  });
}
