// The console's sign-in security in a real browser (Debian's chromium driven by
// playwright-core), with Chromium's virtual authenticator standing in for a device's
// passkey store: the first administrator signs in with the bootstrap link, registers a
// passkey on My account and renames it, signs out and back in with the passkey (chosen by
// the device, then by user name), enrols an authenticator app from its QR page (the code
// computed here from the secret shown, as an app would), looks at the Security Center's
// charts, and finally meets the idle timeout: the warning a minute before the end, "stay
// signed in", then the sign-out at the end with the sign-in page saying why.
//
// Idle time is not waited for. The page's timers run on Playwright's clock, moved forward
// on demand; the server's idea of the session's last activity is moved back by the Rust
// driver, which owns the database: this script prints `AGE SESSIONS` on standard output and
// waits for the line `AGED` on standard input.
//
// Environment: LATCHKEY_URL (http://localhost:PORT), LATCHKEY_SIGN_IN_LINK (the bootstrap
// link, on the same origin), LATCHKEY_SCREENSHOTS (optional: a folder for screenshots).
// Exits non-zero, saying which step failed, on any failure.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createInterface } from 'node:readline';
import { base, launch, link, say, screenshot, step } from './lib.mjs';

// Lines from the driver, one at a time.
const input = createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();
async function ask(request, answer) {
  console.log(request);
  const { value, done } = await lines.next();
  assert.ok(!done && value.trim() === answer, `the driver answered ${JSON.stringify(value)} to ${request}`);
}

// The code an authenticator app shows for `secret` (base32) now: RFC 6238, SHA-1, 6 digits,
// 30-second steps.
function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `not base32: ${secret}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

const browser = await launch();
const pageErrors = [];

async function expectText(locator, text) {
  await locator.waitFor();
  const got = await locator.innerText();
  assert.ok(got.includes(text), `expected ${JSON.stringify(text)} in ${JSON.stringify(got)}`);
}

try {
  // The home page after a passkey sign-in (the sign-in page has the same address), or the
  // message the sign-in form shows instead.
  const signedIn = async () => {
    const welcome = page.locator('h1', { hasText: 'Welcome, admin' });
    const failed = page.locator('form[data-passkey-sign-in] .js-error');
    await welcome.or(failed).waitFor();
    if (await failed.isVisible()) assert.fail(`the passkey sign-in failed: ${await failed.innerText()}`);
  };
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.setDefaultNavigationTimeout(60000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  const nav = (name) => page.locator('header nav').getByRole('link', { name, exact: true });
  // The page's clock: runs normally until the idle phase moves it forward.
  await page.clock.install();

  say('a virtual authenticator holds this browser\'s passkeys');
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });

  say('the bootstrap link signs the administrator in');
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  await expectText(page.locator('h1'), 'Welcome, admin');

  say('My account: a passkey registered through the browser');
  await nav('My account').click();
  await expectText(page.locator('#passkeys-heading + p + table'), 'You have no passkeys.');
  // A name the server would refuse is refused before the device creates anything.
  await page.getByLabel('What to call this passkey').fill('k'.repeat(65));
  await page.getByRole('button', { name: 'Register a passkey' }).click();
  await expectText(page.locator('#register-name-error'), 'at most 64 characters');
  {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 0, 'nothing was created on the device');
  }
  await page.getByLabel('What to call this passkey').fill('Chromium virtual key');
  await page.getByRole('button', { name: 'Register a passkey' }).click();
  await page.waitForURL(`${base}/account?done=passkey_added`);
  await expectText(page.getByRole('status'), 'Passkey registered');
  await expectText(page.locator('#passkeys-heading + p + table'), 'Chromium virtual key');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the authenticator holds one passkey');
  assert.ok(credentials[0].isResidentCredential, 'a discoverable passkey');

  say('the passkey renamed');
  await page.getByLabel('New label for Chromium virtual key').fill('Laptop passkey');
  await page.getByRole('button', { name: 'Rename passkey Chromium virtual key' }).click();
  await expectText(page.getByRole('status'), 'Passkey renamed.');
  await expectText(page.locator('#passkeys-heading + p + table'), 'Laptop passkey');

  say('signing out, then in with the passkey the device offers');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectText(page.locator('h1'), 'Sign in to Latchkey');
  await page.getByRole('heading', { name: 'With a passkey' }).waitFor();
  await screenshot(page, 'sign-in-passkey');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await signedIn();

  say('and by user name');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByLabel('Sign in as').fill('admin');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await signedIn();
  await nav('My account').click();
  await expectText(page.locator('#sessions-heading + table'), 'passkey');

  say('an authenticator app: its QR code, then a wrong code, then the right one');
  await page.getByLabel('What to call this app').fill('phone');
  await page.getByRole('button', { name: 'Add an authenticator app' }).click();
  await expectText(page.locator('h1'), 'scan the QR code');
  const qr = page.getByRole('img', { name: /QR code/ });
  await qr.waitFor();
  assert.ok((await qr.getAttribute('src')).startsWith('data:image/svg+xml,'), 'the QR code is an inline image');
  assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code renders');
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  const right = totp(secret);
  const wrong = right === '000000' ? '111111' : '000000';
  await page.getByLabel('The six digits the app shows now').fill(wrong);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expectText(page.locator('.field.invalid .error'), 'code');
  await expectText(page.locator('#totp-heading ~ table'), 'not verified yet');
  await page.getByLabel('Code from phone').fill(totp(secret));
  await page.getByRole('button', { name: 'Verify phone' }).click();
  await expectText(page.getByRole('status'), 'Authenticator app verified');
  await expectText(page.locator('#totp-heading ~ table'), 'verified');
  await page.locator('#passkeys-heading').scrollIntoViewIfNeeded();
  await screenshot(page, 'account-security');

  say('the Security Center\'s charts');
  await nav('Security').click();
  await page.getByRole('link', { name: 'Charts' }).click();
  await expectText(page.locator('#signins-heading'), 'Sign-ins per day');
  const chart = page.getByRole('img', { name: /Sign-ins per day/ });
  await chart.waitFor();
  assert.ok((await page.locator('#signins-table tbody tr').count()) === 30, '30 days');
  const today = new Date().toISOString().slice(0, 10);
  const row = page.locator('#signins-table tbody tr', { hasText: today });
  const ok = Number(await row.locator('td').first().textContent());
  assert.ok(ok >= 2, `today's sign-ins: at least the two with the passkey, not ${ok}`);
  await page.getByRole('img', { name: /Holders per privileged role/ }).waitFor();
  await screenshot(page, 'security-charts');

  say('an idle timeout of 15 minutes on the administrator\'s role');
  const csrf = await page.locator('header input[name="csrf"]').inputValue();
  const set = await page.evaluate(async (csrf) => {
    const roles = await (await fetch('/api/v1/roles?q=Administrator')).json();
    const role = roles.items.find((r) => r.name === 'Administrator' && r.system_role);
    const res = await fetch(`/api/v1/roles/${role.id}/security-policy`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ require_passkey: false, passkey_after_magic_link: false, idle_timeout_minutes: 15 }),
    });
    return res.status;
  }, csrf);
  assert.equal(set, 200, 'the policy is set');
  await nav('My account').click();
  const warning = page.locator('#idle-warning');
  assert.equal(await warning.getAttribute('data-idle-seconds'), '840', 'the page signs out after 14 minutes');
  assert.ok(await warning.isHidden(), 'no warning yet');

  say('a minute before the end, the warning; "stay signed in" keeps the session');
  await page.clock.fastForward('13:01');
  await warning.waitFor({ state: 'visible' });
  await expectText(warning, 'You will be signed out in one minute');
  await screenshot(page, 'idle-warning');
  await page.getByRole('button', { name: 'Stay signed in' }).click();
  await warning.waitFor({ state: 'hidden' });
  assert.equal(page.url(), `${base}/account`, 'still on the page');

  say('idle on the server too: the driver moves the session\'s last activity back');
  await ask('AGE SESSIONS', 'AGED');
  // The server refuses the session once it reads it afresh (it keeps a resolved session
  // for a few seconds): asked until it does, within a deadline.
  const refusedBy = Date.now() + 30000;
  for (;;) {
    const status = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    if (status === 401) break;
    assert.equal(status, 200, 'the session is either live or refused');
    assert.ok(Date.now() < refusedBy, 'the server refuses the idle session within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await page.clock.fastForward('13:01');
  await warning.waitFor({ state: 'visible' });
  await page.clock.fastForward('01:00');
  await page.waitForURL(`${base}/?signed_out=idle`);
  await expectText(page.getByRole('status'), 'You were signed out because your session was idle');
  await page.goto(`${base}/account`);
  await expectText(page.locator('h1'), 'Sign in to Latchkey');

  assert.deepEqual(pageErrors, [], 'no script or console error on any page');
  console.log('console security scenario: 1 passed, 0 failed');
} catch (e) {
  console.error(`console security scenario failed at step "${step()}":`);
  console.error(e);
  if (pageErrors.length) console.error('page errors:', pageErrors);
  process.exitCode = 1;
} finally {
  input.close();
  await browser.close();
}
