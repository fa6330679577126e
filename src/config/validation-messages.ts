import type { ValidationError } from 'class-validator';

/** Flattens class-validator's error tree into `routes[2].upstream: message` lines. */
export function flattenValidationErrors(errors: readonly ValidationError[], prefix = ''): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const path = joinPath(prefix, error.property);
    for (const message of Object.values(error.constraints ?? {})) {
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
