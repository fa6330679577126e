/** DI tokens for the validated config objects (Symbols, so no string collisions across modules). */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const GATEWAY_ENVIRONMENT = Symbol('GATEWAY_ENVIRONMENT');
