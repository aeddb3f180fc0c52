// What every browser scenario shares: the environment the Rust driver sets
// (crates/latchkey-cli/tests/it/console.rs), Debian's chromium launched as the issue asks
// (never a downloaded browser), the step being run (printed as it starts, named when a
// scenario fails) and full-page screenshots into LATCHKEY_SCREENSHOTS when it is set.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const base = process.env.LATCHKEY_URL;
export const link = process.env.LATCHKEY_SIGN_IN_LINK;
const shots = process.env.LATCHKEY_SCREENSHOTS || '';
assert.ok(base, 'LATCHKEY_URL is required');
assert.ok(link && link.startsWith(base), 'LATCHKEY_SIGN_IN_LINK must be a link on LATCHKEY_URL');

export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

let current = 'start';

/// Starts a step: printed now, named if the scenario fails in it.
export function say(what) {
  current = what;
  console.log(`- ${what}`);
}

export function step() {
  return current;
}

export async function screenshot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}
