/** DI token of the pino logger (a value created before Nest, so start-up lines use it too). */
export const GATEWAY_LOGGER = Symbol('GATEWAY_LOGGER');
