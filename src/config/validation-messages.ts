import type { ValidationError } from 'class-validator';

/** Checks of a value's type: when one fails, the range checks after it only add noise. */
const TYPE_CHECKS = new Set(['whitelistValidation', 'isInt', 'isString', 'isBoolean', 'isArray', 'isObject', 'isIn']);

/**
 * Flattens class-validator's error tree into `routes[2].upstream: message` lines, one per problem.
 * Validate with `validationError.value` on: a field that is absent is reported as required, not
 * by the type it should have had.
 */
export function flattenValidationErrors(errors: readonly ValidationError[], prefix = ''): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const path = joinPath(prefix, error.property);
    const constraints = Object.entries(error.constraints ?? {});
    if (error.value === undefined && constraints.length > 0 && !('whitelistValidation' in (error.constraints ?? {}))) {
      lines.push(`${path}: is required`);
      continue;
    }
    const typeFailures = constraints.filter(([name]) => TYPE_CHECKS.has(name));
    for (const [, message] of typeFailures.length > 0 ? typeFailures.slice(0, 1) : constraints) {
      lines.push(`${path}: ${message.replace(/^property \S+ should not exist$/, 'unknown field (check the spelling)')}`);
    }
    if (error.children?.length) lines.push(...flattenValidationErrors(error.children, path));
  }
  return lines;
}

export function joinPath(prefix: string, property: string): string {
  if (/^\d+$/.test(property)) return `${prefix}[${property}]`;
  if (!/^[A-Za-z_$][\w$]*$/.test(property)) return `${prefix}[${JSON.stringify(property)}]`;
  return prefix ? `${prefix}.${property}` : property;
}
