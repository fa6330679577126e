/**
 * The class-validator decorators and validator the gateway uses, each required from its own module
 * rather than through class-validator's index, which loads every validator it has, libphonenumber-js
 * and its phone metadata among them: about 3.3 MiB of heap the gateway never uses, which every full
 * garbage collection would mark again (docs/performance.md, "Streaming and the garbage collector").
 * These are the very files the index re-exports, and the decorators register into class-validator's
 * one global metadata storage, so a plugin that imports the index itself sees the same metadata. If
 * an upgrade moves one of them, start-up fails loudly.
 */
import type { ValidationError, ValidatorOptions } from 'class-validator';
import { Validator } from 'class-validator/cjs/validation/Validator';

export { ArrayMinSize } from 'class-validator/cjs/decorator/array/ArrayMinSize';
export { ArrayUnique } from 'class-validator/cjs/decorator/array/ArrayUnique';
export { IsArray } from 'class-validator/cjs/decorator/typechecker/IsArray';
export { IsBoolean } from 'class-validator/cjs/decorator/typechecker/IsBoolean';
export { IsIn } from 'class-validator/cjs/decorator/common/IsIn';
export { IsInt } from 'class-validator/cjs/decorator/typechecker/IsInt';
export { IsObject } from 'class-validator/cjs/decorator/typechecker/IsObject';
export { IsOptional } from 'class-validator/cjs/decorator/common/IsOptional';
export { IsString } from 'class-validator/cjs/decorator/typechecker/IsString';
export { Matches } from 'class-validator/cjs/decorator/string/Matches';
export { Max } from 'class-validator/cjs/decorator/number/Max';
export { Min } from 'class-validator/cjs/decorator/number/Min';
export { MinLength } from 'class-validator/cjs/decorator/string/MinLength';
export { ValidateNested } from 'class-validator/cjs/decorator/common/ValidateNested';

const validator = new Validator();

/** class-validator's `validateSync` for a decorated object (the index's, without its container). */
export function validateSync(object: object, options?: ValidatorOptions): ValidationError[] {
  return validator.validateSync(object, options);
}
