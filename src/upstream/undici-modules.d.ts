// Types for the undici modules undici-parts.ts loads one by one: each is the export of undici's
// index of the same name, with undici's own types.
declare module 'undici/lib/dispatcher/pool' {
  import { Pool } from 'undici';
  export = Pool;
}
declare module 'undici/lib/dispatcher/client' {
  import { Client } from 'undici';
  export = Client;
}
declare module 'undici/lib/core/errors' {
  import { errors } from 'undici';
  export = errors;
}
declare module 'undici/lib/core/util' {
  import { util } from 'undici';
  export = util;
}
