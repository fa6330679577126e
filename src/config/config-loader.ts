import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError } from './config-error';
import { validateGatewayConfig } from './config-validator';
import type { GatewayConfig } from './gateway-config.types';

export interface LoadedConfig {
  readonly config: GatewayConfig;
  /** The parsed file before defaults, for warnings about fields not enforced yet. */
  readonly raw: unknown;
}

/** Reads a YAML or JSON config file (JSON is valid YAML 1.2) and validates it. */
export function loadGatewayConfigFile(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError('config', [`cannot read ${path} (${code}); set GATEWAY_CONFIG to the config file`]);
  }
  const raw = parseConfigText(text, path);
  return { config: validateGatewayConfig(raw), raw };
}

export function parseConfigText(text: string, path: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      'config',
      doc.errors.map(
        (e) => `${path}:${e.linePos?.[0].line ?? '?'}:${e.linePos?.[0].col ?? '?'}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
      ),
    );
  }
  return doc.toJS();
}
