import type { GatewayConfig } from './gateway-config.types';

export interface NamedChanges {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
}

export interface ConfigChanges {
  readonly routes: NamedChanges;
  readonly upstreams: NamedChanges;
  /**
   * `server` fields whose new value only a restart applies (the listener and the management
   * endpoints are built once, at start); the rest of the reload is applied.
   */
  readonly restartRequired: string[];
}

/** True when two resolved settings objects say the same thing (the resolver writes keys in one order). */
export function sameSettings(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** What a reload from `before` to `after` adds, removes and changes, by route id and upstream name. */
export function diffConfigs(before: GatewayConfig, after: GatewayConfig): ConfigChanges {
  return {
    routes: diffNamed(
      new Map(before.routes.map((r) => [r.id, r])),
      new Map(after.routes.map((r) => [r.id, r])),
    ),
    upstreams: diffNamed(new Map(Object.entries(before.upstreams)), new Map(Object.entries(after.upstreams))),
    restartRequired: Object.keys(after.server)
      .filter((key) => !sameSettings(before.server[key as keyof typeof before.server], after.server[key as keyof typeof after.server]))
      .map((key) => `server.${key}`),
  };
}

function diffNamed<T>(before: ReadonlyMap<string, T>, after: ReadonlyMap<string, T>): NamedChanges {
  const added: string[] = [];
  const changed: string[] = [];
  for (const [name, settings] of after) {
    if (!before.has(name)) added.push(name);
    else if (!sameSettings(before.get(name), settings)) changed.push(name);
  }
  const removed = [...before.keys()].filter((name) => !after.has(name));
  return { added, removed, changed };
}
