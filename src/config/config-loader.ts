import { readFileSync } from 'node:fs';
import { parseDocument, type YAMLError } from 'yaml';
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
  const { raw, duplicates } = parseWithDuplicates(text, path);
  let config: GatewayConfig;
  try {
    config = validateGatewayConfig(raw);
  } catch (error) {
    // A duplicate key is one problem among the others, not a reason to hide them.
    if (error instanceof ConfigError && duplicates.length > 0) throw new ConfigError('config', [...duplicates, ...error.problems]);
    throw error;
  }
  if (duplicates.length > 0) throw new ConfigError('config', duplicates);
  return { config, raw };
}

/** Parses YAML (or JSON); a syntax error throws ConfigError with every error's line and column. */
export function parseConfigText(text: string, path: string): unknown {
  const { raw, duplicates } = parseWithDuplicates(text, path);
  if (duplicates.length > 0) throw new ConfigError('config', duplicates);
  return raw;
}

/**
 * The parsed file, and its duplicate keys as problems of their own: the file is otherwise
 * readable (the last value counts while it is checked), so the rest of it is still validated.
 */
function parseWithDuplicates(text: string, path: string): { raw: unknown; duplicates: string[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const where = (e: YAMLError): string => `${path}:${e.linePos?.[0].line ?? '?'}:${e.linePos?.[0].col ?? '?'}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
  const fatal = doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY');
  if (fatal.length > 0) throw new ConfigError('config', doc.errors.map(where));
  const duplicates = doc.errors.map((e) => `${where(e)} (${duplicateKeyOf(text, e)})`);
  return { raw: duplicates.length > 0 ? parseDocument(text, { uniqueKeys: false }).toJS() : doc.toJS(), duplicates };
}

/** The key written twice, as the message names no key. */
function duplicateKeyOf(text: string, error: YAMLError): string {
  const line = text.split('\n')[(error.linePos?.[0].line ?? 1) - 1] ?? '';
  const key = /^\s*(?:-\s+)?["']?([^"':]+)["']?\s*:/.exec(line)?.[1]?.trim();
  return key === undefined ? 'a key is written twice' : `"${key}" is written twice`;
}
