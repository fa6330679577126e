/*
 * Fields the schema accepts (so a config written to the docs loads) but whose feature has
 * not landed yet. Start-up warns once, naming each one present in the file. Remove an entry
 * when its feature lands.
 */
const ROUTE_FIELDS: readonly string[] = [];
const UPSTREAM_FIELDS: readonly string[] = [];
const DEFAULTS_FIELDS: readonly string[] = [];

type RawObject = Record<string, unknown>;

function isObject(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function unenforcedFields(raw: unknown): string[] {
  if (!isObject(raw)) return [];
  const found: string[] = [];
  if (isObject(raw.defaults)) {
    for (const f of DEFAULTS_FIELDS) if (f in raw.defaults) found.push(`defaults.${f}`);
  }
  if (isObject(raw.upstreams)) {
    for (const [name, u] of Object.entries(raw.upstreams)) {
      if (isObject(u)) for (const f of UPSTREAM_FIELDS) if (f in u) found.push(`upstreams.${name}.${f}`);
    }
  }
  if (Array.isArray(raw.routes)) {
    raw.routes.forEach((r: unknown, i) => {
      if (isObject(r)) for (const f of ROUTE_FIELDS) if (f in r) found.push(`routes[${i}].${f}`);
    });
  }
  return found;
}
