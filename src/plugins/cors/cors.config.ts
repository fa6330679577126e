import { ArrayMinSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, Min } from '../../config/class-validator-parts';

/** `plugins: [{ name: cors, config: {...} }]` (docs/plugins.md "Plugins"). */
export class CorsConfig {
  /** Exact origins (`https://app.example.com`), or `*` for any. */
  @IsArray()
  @ArrayMinSize(1)
  @Matches(/^(\*|https?:\/\/[^/\s]+)$/, { each: true, message: '$property must hold * or origins such as https://app.example.com (no path)' })
  origins!: string[];

  @IsOptional() @IsArray() @Matches(/^[A-Z][A-Z0-9_-]*$/, { each: true, message: '$property must hold upper-case method names' }) methods?: string[];
  /** Request headers a preflight may ask for; unset: whatever it asks for is allowed. */
  @IsOptional() @IsArray() @IsString({ each: true }) headers?: string[];
  /** Response headers the browser lets scripts read. */
  @IsOptional() @IsArray() @IsString({ each: true }) exposedHeaders?: string[];
  @IsOptional() @IsBoolean() credentials?: boolean;
  @IsOptional() @IsInt() @Min(0) maxAgeSeconds?: number;
}
