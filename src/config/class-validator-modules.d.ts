// Types for the class-validator modules class-validator-parts.ts loads one by one: each is the
// export of class-validator's index of the same name, with its own types.

declare module 'class-validator/cjs/decorator/array/ArrayMinSize' {
  export { ArrayMinSize } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/array/ArrayUnique' {
  export { ArrayUnique } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/typechecker/IsArray' {
  export { IsArray } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/typechecker/IsBoolean' {
  export { IsBoolean } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/common/IsIn' {
  export { IsIn } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/typechecker/IsInt' {
  export { IsInt } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/typechecker/IsObject' {
  export { IsObject } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/common/IsOptional' {
  export { IsOptional } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/typechecker/IsString' {
  export { IsString } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/string/Matches' {
  export { Matches } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/number/Max' {
  export { Max } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/number/Min' {
  export { Min } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/string/MinLength' {
  export { MinLength } from 'class-validator';
}
declare module 'class-validator/cjs/decorator/common/ValidateNested' {
  export { ValidateNested } from 'class-validator';
}
declare module 'class-validator/cjs/validation/Validator' {
  export { Validator } from 'class-validator';
}
