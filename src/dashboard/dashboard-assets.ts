import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One file of the dashboard, read once at start-up. */
export interface DashboardAsset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/** The page, its script, stylesheet and icon; nothing else is served under `<managementPrefix>/dashboard/`. */
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/**
 * Reads the files beside this module (`assets/`: `npm run build` copies them into dist/). The
 * page learns where the admin API is from its `data-admin` attribute, filled in here once, so the
 * same files work under any `managementPrefix`.
 */
export function loadDashboardAssets(managementPrefix: string, dir = join(__dirname, 'assets')): ReadonlyMap<string, DashboardAsset> {
  const assets = new Map<string, DashboardAsset>();
  for (const [name, contentType] of Object.entries(FILES)) {
    let text = readFileSync(join(dir, name), 'utf8');
    if (name === 'index.html') text = text.replaceAll('{{managementPrefix}}', escapeHtml(managementPrefix));
    const body = Buffer.from(text);
    assets.set(name, { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return assets;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
