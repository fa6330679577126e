import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

/** The committed JSON Schema of the config file (config/gateway.schema.json, from `npm run config-schema`). */
export const CONFIG_SCHEMA_PATH = resolve(__dirname, '../../config/gateway.schema.json');

let validator: ReturnType<Ajv['compile']> | null = null;

/** What the JSON Schema finds wrong with `config` (a parsed file, or YAML/JSON text): `/path: message` lines, none when it validates. */
export function schemaProblems(config: unknown): string[] {
  validator ??= new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')));
  const value: unknown = typeof config === 'string' ? parse(config) : config;
  if (validator(value)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

/**
 * Every config the gateway starts with in the tests goes through this: one it accepts must
 * satisfy the schema too, or editors would flag a file that works.
 */
export function assertSchemaAccepts(config: unknown, where: string): void {
  const problems = schemaProblems(config);
  if (problems.length > 0) throw new Error(`the gateway accepted a config that config/gateway.schema.json rejects (${where}):\n${problems.join('\n')}`);
}
