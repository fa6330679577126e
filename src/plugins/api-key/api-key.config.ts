import { IsOptional, IsString, Matches } from '../../config/class-validator-parts';

/** `plugins: [{ name: api-key, config: {...} }]` (docs/plugins.md "Plugins"). Exactly one of `keysFile` and `keysEnv`. */
export class ApiKeyConfig {
  /** The request header holding the key; never forwarded upstream. */
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, { message: '$property must be a lower-case header name' })
  header?: string;

  /** A YAML file of `<key id>: <SHA-256 of the key, hex>`; read at start and on every reload. */
  @IsOptional() @IsString() keysFile?: string;

  /** An environment variable holding the same mapping in YAML flow style: `{ci: 9f86..., ops: 60303...}`. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: '$property must be an environment variable name' })
  keysEnv?: string;
}
