import { ERROR_CATALOGUE, type GatewayErrorCode } from './error-catalogue';

/** How an upstream call failed, for metrics and logs (docs/operations.md "Management endpoints" `kind`). */
export type UpstreamErrorKind = 'refused' | 'reset' | 'timeout' | 'invalid';

/** An error the gateway answers itself, with a stable code from the catalogue. */
export class GatewayError extends Error {
  readonly status: number;

  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly upstreamKind: UpstreamErrorKind | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
    this.status = ERROR_CATALOGUE[code].status;
  }

  get reason(): string {
    return ERROR_CATALOGUE[this.code].error;
  }
}
