import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian, Ubuntu and Chrome put the browser; CHROMIUM_PATH first. No browser is ever downloaded. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The Chromium binary the browser tests drive, or an error that says how to install one (the suite fails, it is never skipped). */
export function chromiumPath(): string {
  const wanted = process.env.CHROMIUM_PATH;
  if (wanted) {
    if (!existsSync(wanted)) throw new Error(`CHROMIUM_PATH=${wanted}: no such file`);
    return wanted;
  }
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(
      `the browser tests need Chromium and found none at ${CANDIDATES.join(', ')}: install it with ` +
        '`apt-get install -y chromium` (Debian; `.ci/run` does) or point CHROMIUM_PATH at a Chromium or Chrome binary',
    );
  }
  return found;
}

/**
 * Headless Chromium with nothing of its own on the network (no update checks, sync or QUIC
 * probes), so every request the page makes is the page's. --no-sandbox: CI runs as root.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
