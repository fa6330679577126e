/** Thrown when the config (file or environment) is invalid; one problem per line, each naming its field. */
export class ConfigError extends Error {
  constructor(
    readonly source: 'config' | 'env',
    readonly problems: readonly string[],
  ) {
    super(problems.map((p) => `${source}: ${p}`).join('\n'));
    this.name = 'ConfigError';
  }

  get lines(): string[] {
    return this.problems.map((p) => `${this.source}: ${p}`);
  }
}
