'use strict';
/*
 * Test-only preload (NODE_OPTIONS=--require): when the process exits, it writes one line on
 * stderr, "loaded-modules <json>", the files Node's module loader has loaded (require.cache), so
 * a test can tell which packages the gateway really loaded.
 */
const { writeSync } = require('node:fs');

process.on('exit', () => {
  writeSync(2, `loaded-modules ${JSON.stringify(Object.keys(require.cache))}\n`);
});
