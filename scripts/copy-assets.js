'use strict';
/*
 * Part of `npm run build`: tsc compiles only TypeScript, so the dashboard's page, script,
 * stylesheet and icon (src/dashboard/assets/) are copied beside the compiled module that serves
 * them (dist/dashboard/assets/).
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const FROM = path.join(ROOT, 'src', 'dashboard', 'assets');
const TO = path.join(ROOT, 'dist', 'dashboard', 'assets');

fs.rmSync(TO, { recursive: true, force: true });
fs.cpSync(FROM, TO, { recursive: true });
