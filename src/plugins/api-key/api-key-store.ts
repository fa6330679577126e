import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ApiKeyConfig } from './api-key.config';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/;

/** The header and the known keys, as SHA-256 hex → key id. */
export interface ApiKeys {
  readonly header: string;
  readonly idByDigest: ReadonlyMap<string, string>;
}

/**
 * Reads the keys a route accepts. Only digests are kept, so the gateway never holds a key; a
 * problem throws an Error whose message names the field and the entry (a config error).
 */
export function loadApiKeys(config: ApiKeyConfig, env: NodeJS.ProcessEnv = process.env): ApiKeys {
  if ((config.keysFile === undefined) === (config.keysEnv === undefined)) throw new Error('set exactly one of keysFile and keysEnv');
  let text: string;
  let source: string;
  if (config.keysFile !== undefined) {
    source = `keysFile ${config.keysFile}`;
    try {
      text = readFileSync(config.keysFile, 'utf8');
    } catch (error) {
      throw new Error(`keysFile: cannot read ${config.keysFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else {
    source = `keysEnv ${config.keysEnv!}`;
    const value = env[config.keysEnv!];
    if (value === undefined || value.trim() === '') throw new Error(`keysEnv: ${config.keysEnv!} is not set`);
    text = value;
  }
  let parsed: unknown;
  try {
    // failsafe: every value stays a string (a digest of digits and one e would otherwise read as a number).
    parsed = parse(text, { schema: 'failsafe' });
  } catch {
    throw new Error(`${source}: not valid YAML`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${source}: expected a mapping of key id to SHA-256 hex`);
  const idByDigest = new Map<string, string>();
  for (const [id, digest] of Object.entries(parsed)) {
    if (!KEY_ID.test(id)) throw new Error(`${source}: "${id}" is not a valid key id (letters, digits, _ . @ -)`);
    if (typeof digest !== 'string' || !SHA256_HEX.test(digest.toLowerCase())) throw new Error(`${source}: ${id} must be the SHA-256 of the key in hex (64 characters)`);
    idByDigest.set(digest.toLowerCase(), id);
  }
  if (idByDigest.size === 0) throw new Error(`${source}: holds no keys`);
  return { header: config.header ?? 'x-api-key', idByDigest };
}
