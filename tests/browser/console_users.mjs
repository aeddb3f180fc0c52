// Users' life cycle and workspaces in a real browser (Debian's chromium driven by
// playwright-core): the first administrator signs in with the bootstrap link, imports users
// from a CSV file (picked; the page's script reads it into the form) whose header names
// differ from Latchkey's fields (one column mapped by hand), sees the dry run, imports;
// invites a second administrator, who accepts (REST API, the link read from the server's
// outbox), creates a workspace and makes the first administrator a member; a user is
// disabled; the second administrator is deleted after the ownership review, their
// workspace going to an imported user; the workspace shows its new owner.
//
// Environment: LATCHKEY_URL (http://localhost:PORT), LATCHKEY_SIGN_IN_LINK (the bootstrap
// link, on the same origin), LATCHKEY_OUTBOX (the server's mail folder), LATCHKEY_SCREENSHOTS
// (optional: a folder for full-page screenshots). Exits non-zero, saying which step failed.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { base, launch, link, say, screenshot, step } from './lib.mjs';

const outbox = process.env.LATCHKEY_OUTBOX;
assert.ok(outbox, 'LATCHKEY_OUTBOX is required');

const browser = await launch();
const pageErrors = [];

async function expectText(locator, text) {
  await locator.first().waitFor();
  const got = await locator.first().innerText();
  assert.ok(got.includes(text), `expected ${JSON.stringify(text)} in ${JSON.stringify(got)}`);
}

/// A JSON call to the REST API with a bearer token.
async function api(method, path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

/// The invitation secret mailed to `to`, from the outbox's .eml files.
function invitationSecret(to) {
  for (const name of readdirSync(outbox)) {
    if (!name.endsWith('.eml')) continue;
    const mail = readFileSync(join(outbox, name), 'utf8');
    if (!mail.includes(`To: ${to}`)) continue;
    const found = mail.match(/lki_[A-Za-z0-9_-]+/);
    if (found) return found[0];
  }
  throw new Error(`no invitation to ${to} in ${outbox}`);
}

const FILE = [
  'Login,Given name,Family name,Work mail,Department,Remark',
  'ana.lima,Ana,Lima,ana.lima@example.com,Administrators,Moved from the HR system',
  'bo.chen,Bo,Chen,bo.chen@example.com,Administrators,Moved from the HR system',
].join('\n');

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.setDefaultNavigationTimeout(60000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  const nav = (name) => page.locator('header nav').getByRole('link', { name, exact: true });

  say('the bootstrap link signs the administrator in');
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  await expectText(page.locator('h1'), 'Welcome, admin');

  say('a CSV file is picked; its columns are mapped, guessed from the header names');
  await nav('Users').click();
  await page.getByRole('link', { name: 'Import CSV' }).click();
  await expectText(page.locator('h1'), 'Import users from CSV');
  // The picker (static/import.js) puts the chosen file's text in the box the form posts.
  await page.getByLabel('Choose a CSV file').setInputFiles({
    name: 'people.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(FILE),
  });
  await page.waitForFunction(() => document.getElementById('import-csv').value.includes('bo.chen'));
  assert.equal(await page.locator('#import-csv').inputValue(), FILE);
  await page.getByRole('button', { name: 'Next: map the columns' }).click();
  await expectText(page.locator('main'), '2 rows read');
  assert.equal(await page.getByLabel('Column Login fills').inputValue(), 'user_name');
  assert.equal(await page.getByLabel('Column Given name fills').inputValue(), 'first_name');
  assert.equal(await page.getByLabel('Column Family name fills').inputValue(), 'last_name');
  assert.equal(await page.getByLabel('Column Work mail fills').inputValue(), 'email');
  assert.equal(await page.getByLabel('Column Department fills').inputValue(), 'primary_group');
  assert.equal(await page.getByLabel('Column Remark fills').inputValue(), '', 'Remark is not a field name');
  await page.getByLabel('Column Remark fills').selectOption({ label: 'Comments' });
  await screenshot(page, 'users-import-mapping');

  say('the dry run shows what each row would do, and writes nothing');
  await page.getByRole('button', { name: 'Next: dry run' }).click();
  await expectText(page.getByRole('status'), 'Dry run: 2 rows would create 2 users');
  await expectText(page.locator('main'), 'Remark → Comments');
  await expectText(page.locator('table').last(), 'ana.lima');
  await screenshot(page, 'users-import-preview');
  const before = await api('GET', '/api/v1/users?user_name=ana.lima', null);
  assert.equal(before.status, 401, 'the REST API needs a credential');

  say('the import, confirmed, creates the users');
  await page.getByRole('button', { name: 'Import 2 rows' }).click();
  await expectText(page.getByRole('status'), 'Import done: 2 users created');
  await page.getByRole('link', { name: 'See the users' }).click();
  await page.getByRole('link', { name: 'ana.lima', exact: true }).waitFor();
  await page.getByRole('link', { name: 'bo.chen', exact: true }).click();
  await expectText(page.locator('h1'), 'Bo Chen');
  await expectText(page.locator('dl.details'), 'Moved from the HR system');

  say('a user is disabled, after the page says what that does');
  await page.getByRole('link', { name: 'Disable', exact: true }).click();
  await expectText(page.locator('main'), 'will no longer be able to sign in');
  await page.getByRole('button', { name: 'Disable bo.chen' }).click();
  await expectText(page.getByRole('status'), 'User disabled');
  await expectText(page.locator('h1'), 'disabled');

  say('a second administrator is invited by work email');
  await nav('Users').click();
  await page.getByRole('link', { name: 'Invite' }).click();
  await page.getByLabel('Work email').fill('nina.novak@example.com');
  await page.getByLabel('Role').selectOption({ label: 'latchkey / Administrator' });
  await page.getByRole('button', { name: 'Send the invitation' }).click();
  await expectText(page.getByRole('status'), 'Invitation sent to nina.novak@example.com');

  say('she accepts, creates a workspace and makes the first administrator a member');
  const accepted = await api('POST', '/api/v1/invitations/accept', null, {
    token: invitationSecret('nina.novak@example.com'),
    user_name: 'nina',
    first_name: 'Nina',
    last_name: 'Novak',
    password: 'a long enough passphrase for nina',
  });
  assert.equal(accepted.status, 201, accepted.text);
  const nina = accepted.body.session.token;
  const ws = await api('POST', '/api/v1/workspaces', nina, { name: 'Field notes', plan: 'business' });
  assert.equal(ws.status, 201, ws.text);
  const admins = await api('GET', '/api/v1/users?user_name=admin', nina);
  const adminId = admins.body.items[0].id;
  const added = await api('POST', `/api/v1/workspaces/${ws.body.id}/members`, nina, {
    user_id: adminId,
    role: 'admin',
  });
  assert.equal(added.status, 201, added.text);
  await nav('Workspaces').click();
  await page.getByRole('link', { name: 'Field notes' }).click();
  await expectText(page.locator('#workspace-owner'), 'nina');

  say('deleting nina lists what she owns and asks who takes it over');
  await page.goto(`${base}/users?q=nina`);
  await page.getByRole('link', { name: 'nina', exact: true }).click();
  await page.getByRole('link', { name: 'Delete', exact: true }).click();
  await expectText(page.locator('h1'), 'Delete Nina Novak');
  await expectText(page.locator('section table'), 'Field notes');
  await page.getByLabel('Who takes over what they own').fill('ana.lima');
  await screenshot(page, 'user-delete');
  await page.getByRole('button', { name: 'Delete nina' }).click();
  await page.waitForURL(`${base}/users`);
  assert.equal(await page.getByRole('link', { name: 'nina', exact: true }).count(), 0, 'nina is gone');

  say('the workspace now belongs to ana.lima');
  await nav('Workspaces').click();
  await page.getByRole('link', { name: 'Field notes' }).click();
  await expectText(page.locator('#workspace-owner'), 'ana.lima');
  await expectText(page.locator('#members-heading + table'), 'ana.lima');
  await screenshot(page, 'workspace');

  assert.deepEqual(pageErrors, [], 'no script or console error on any page');
  console.log('users scenario: 1 passed, 0 failed');
} catch (e) {
  console.error(`users scenario failed at step "${step()}":`);
  console.error(e);
  if (pageErrors.length) console.error('page errors:', pageErrors);
  process.exitCode = 1;
} finally {
  await browser.close();
}
