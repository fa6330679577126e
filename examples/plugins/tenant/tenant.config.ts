import { ArrayMinSize, IsArray, IsOptional, IsString, Matches } from 'class-validator';

/** `plugins: [{ name: tenant, config: { hostSuffix: api.example.com, tenants: [acme, globex] } }]` */
export class TenantConfig {
  /** The tenant is the host's first label in front of this suffix: acme.api.example.com → acme. */
  @IsString() @Matches(/^[a-z0-9.-]+$/, { message: '$property must be a lower-case host suffix' }) hostSuffix!: string;
  @IsArray() @ArrayMinSize(1) @IsString({ each: true }) tenants!: string[];
  /** The header that carries the tenant upstream and back to the client. */
  @IsOptional() @IsString() header?: string;
}
