// The console's governance pages in a real browser (Debian's chromium driven by
// playwright-core): the first administrator signs in with the bootstrap link; builds an
// information system with two roles and a forbidden segregation-of-duties rule over them
// (previewed first) on the SoD pages; grants one role on a user's page, then the other,
// which is refused on screen naming the rule; writes a role assignment rule with a syntax
// error (shown with its line and column), fixes it, previews it and applies it, following
// the run to its end; puts a system under an approval process (REST API, with the
// session: the console has no system editing page) and has its owner approve the pending
// grant in a second browser; runs a small access review and revokes one grant after the
// confirmation page.
//
// Environment: LATCHKEY_URL (http://localhost:PORT), LATCHKEY_SIGN_IN_LINK (the bootstrap
// link, on the same origin), LATCHKEY_SCREENSHOTS (optional: a folder for full-page
// screenshots). Exits non-zero, saying which step failed, on any failure.

import assert from 'node:assert/strict';
import { base, launch, link, say, screenshot, step } from './lib.mjs';

const browser = await launch();
const pageErrors = [];

async function expectText(locator, text) {
  await locator.first().waitFor();
  const got = await locator.first().innerText();
  assert.ok(got.includes(text), `expected ${JSON.stringify(text)} in ${JSON.stringify(got)}`);
}

async function newPage(context) {
  const page = await context.newPage();
  // Generous: CI runs this beside the rest of the test suite on two cores.
  page.setDefaultTimeout(30000);
  page.setDefaultNavigationTimeout(60000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // Script errors and refusals by the content security policy fail the scenario; pages
  // answered with an error status (the refused grant's 409, the rule's 422) are expected.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  return page;
}

/// A REST call with the browser's session (its cookie and CSRF token).
async function api(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const csrf = document.cookie
        .split('; ')
        .find((c) => c.startsWith('latchkey_csrf='))
        ?.split('=')[1];
      const res = await fetch(path, {
        method,
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    { method, path, body },
  );
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await newPage(context);
  const nav = (name) => page.locator('header nav').getByRole('link', { name, exact: true });

  say('the bootstrap link signs the administrator in');
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  await expectText(page.locator('h1'), 'Welcome, admin');

  say('systems Payments (Approver, Auditor), Wiki (Reader) and ERP (Clerk)');
  await nav('Roles').click();
  for (const [system, roles] of [['Payments', ['Approver', 'Auditor']], ['Wiki', ['Reader']], ['ERP', ['Clerk']]]) {
    await page.locator('#system-name').fill(system);
    await page.getByRole('button', { name: 'Create system' }).click();
    await expectText(page.getByRole('status'), 'Information system created');
    for (const role of roles) {
      await page.locator('#role-system_id').selectOption({ label: system });
      await page.locator('#role-name').fill(role);
      await page.getByRole('button', { name: 'Create role' }).click();
      await expectText(page.getByRole('status'), 'Role created');
    }
  }

  say('a forbidden SoD rule over Approver and Auditor, previewed then created');
  await nav('SoD').click();
  await expectText(page.locator('h1'), 'Segregation of duties');
  await page.getByRole('link', { name: 'New SoD rule' }).click();
  await page.locator('#sod-name').fill('Approvers do not audit');
  await page.locator('#sod-system_id').selectOption({ label: 'Payments' });
  await page.locator('#sod-role_ids').selectOption([{ label: 'Payments / Approver' }, { label: 'Payments / Auditor' }]);
  await page.locator('#sod-kind').selectOption('all');
  await page.locator('#sod-risk').selectOption('forbidden');
  await page.getByRole('button', { name: 'Preview affected users' }).click();
  await expectText(page.locator('#preview-heading + p'), '0 users hold');
  await page.getByRole('button', { name: 'Create rule' }).click();
  await expectText(page.getByRole('status'), 'Segregation-of-duties rule created.');
  await nav('SoD').click();
  await expectText(page.locator('tbody'), 'Approvers do not audit');

  say('a group Staff and users ana and olga in it');
  await nav('Groups').click();
  await page.locator('#group-name').fill('Staff');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expectText(page.locator('h1'), 'Staff');
  const users = {};
  for (const [name, first, last] of [['ana', 'Ana', 'Diaz'], ['olga', 'Olga', 'Owner']]) {
    await nav('Users').click();
    await page.getByRole('link', { name: 'New user' }).click();
    await page.locator('#user-user_name').fill(name);
    await page.locator('#user-first_name').fill(first);
    await page.locator('#user-last_name').fill(last);
    await page.locator('#user-primary_group_id').selectOption({ label: 'Staff' });
    await page.getByRole('button', { name: 'Create user' }).click();
    await expectText(page.locator('h1'), `${first} ${last}`);
    users[name] = page.url().split('/users/')[1].split('?')[0];
  }

  say('ana is granted Approver; Auditor is refused on screen, naming the rule');
  await page.goto(`${base}/users/${users.ana}?tab=roles`);
  await page.locator('#grant-role_id').selectOption({ label: 'Payments / Approver' });
  await page.getByRole('button', { name: 'Grant', exact: true }).click();
  await expectText(page.locator('tbody'), 'Approver');
  await page.locator('#grant-role_id').selectOption({ label: 'Payments / Auditor' });
  await page.getByRole('button', { name: 'Grant', exact: true }).click();
  await expectText(page.getByRole('alert'), 'Approvers do not audit');
  assert.ok(!(await page.locator('tbody').innerText()).includes('Auditor'), 'Auditor is not granted');
  await screenshot(page, 'governance-sod-refused');

  say('a role assignment rule with a syntax error: the error names its line and column');
  await nav('Rules').click();
  await page.getByRole('link', { name: 'New rule' }).click();
  await page.locator('#rule-name').fill('Staff read the wiki');
  const expression = page.locator('#rule-expression');
  await expression.fill('user.active &&\n  user.primary_group == ');
  await page.locator('#rule-role_ids').selectOption([{ label: 'Wiki / Reader' }]);
  await page.getByRole('button', { name: 'Save rule' }).click();
  const error = page.locator('#rule-expression-error');
  await error.waitFor();
  assert.match(await error.innerText(), /line \d+, column \d+/);
  assert.equal(await expression.getAttribute('aria-invalid'), 'true');
  assert.ok((await expression.inputValue()).includes('user.primary_group'), 'the expression is kept');

  say('fixed, saved, previewed: ana gains Wiki / Reader');
  await expression.fill('user.active &&\n  user.primary_group == "Staff"');
  await page.getByRole('button', { name: 'Save rule' }).click();
  await expectText(page.getByRole('status'), 'Rule saved');
  await page.getByRole('button', { name: 'Preview the saved rule' }).click();
  await expectText(page.locator('#diff-heading + p'), 'Nothing has been changed');
  const gains = page.locator('table[aria-labelledby="diff-gains"]');
  await expectText(gains, 'ana');
  await expectText(gains, 'Reader');
  await screenshot(page, 'governance-rules-preview');

  say('applied: the run is followed to its end');
  await page.getByRole('button', { name: 'Apply now' }).click();
  await expectText(page.locator('h1'), 'Applying rule Staff read the wiki');
  // htmx polls the figures every second until the run is over.
  await page.locator('.run-status', { hasText: 'succeeded' }).waitFor();
  await expectText(page.locator('#run-progress'), 'Granted');
  assert.match(await page.locator('#run-progress').innerText(), /Granted\s+2/);

  say('ERP gets an approval process owned by olga, who gets a password (REST API)');
  const systems = await api(page, 'GET', '/api/v1/systems?limit=100');
  assert.equal(systems.status, 200);
  const erp = systems.body.items.find((s) => s.name === 'ERP');
  const patched = await api(page, 'PATCH', `/api/v1/systems/${erp.id}`, { approval_process: true, owner_id: users.olga });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const password = await api(page, 'PUT', `/api/v1/users/${users.olga}/password`, { password: 'olga owns the ERP system' });
  assert.equal(password.status, 204, JSON.stringify(password.body));

  say("the administrator asks for ERP / Clerk on ana's page: it waits for approval");
  await page.goto(`${base}/users/${users.ana}?tab=roles`);
  await page.locator('#grant-role_id').selectOption({ label: 'ERP / Clerk' });
  await page.getByRole('button', { name: 'Grant', exact: true }).click();
  await expectText(page.getByRole('row').filter({ hasText: 'Clerk' }), 'pending_approval');
  await nav('Approvals').click();
  await page.getByRole('link', { name: 'My requests' }).click();
  await expectText(page.locator('tbody'), 'grant ERP / Clerk');
  await expectText(page.locator('tbody'), 'pending');

  say('olga signs in in another browser and approves it with a comment');
  const olgaContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const olga = await newPage(olgaContext);
  await olga.goto(`${base}/`);
  await olga.locator('#password-user_name').fill('olga');
  await olga.locator('#password-password').fill('olga owns the ERP system');
  await olga.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expectText(olga.locator('h1'), 'Welcome, olga');
  await olga.locator('header nav').getByRole('link', { name: 'Approvals', exact: true }).click();
  await expectText(olga.locator('tbody'), 'grant ERP / Clerk');
  await expectText(olga.locator('tbody'), 'user ana');
  await screenshot(olga, 'governance-approvals');
  await olga.getByRole('link', { name: /^Decide/ }).click();
  await expectText(olga.locator('form[aria-labelledby="decide-heading"]'), 'user ana holds ERP / Clerk from now on');
  await olga.getByLabel('Comment (required to reject)').fill('needed for month end');
  await olga.getByRole('button', { name: 'Approve', exact: true }).click();
  await expectText(olga.getByRole('status'), 'Request approved.');
  await expectText(olga.locator('main'), 'Nothing waits for your decision.');
  await olgaContext.close();
  await page.goto(`${base}/users/${users.ana}?tab=roles`);
  await expectText(page.getByRole('row').filter({ hasText: 'Clerk' }), 'active');

  say("an access review of Payments: ana's Approver grant is revoked after confirmation");
  await nav('Reviews').click();
  await page.getByRole('link', { name: 'New campaign' }).click();
  await page.locator('#review-name').fill('Payments, fourth quarter');
  await page.getByLabel('an information system (and its sub-systems)').check();
  await page.locator('#review-system_id').selectOption({ label: 'Payments' });
  await page.locator('#review-reviewer').selectOption('system_owner');
  const due = new Date(Date.now() + 14 * 86400e3).toISOString().slice(0, 10);
  await page.locator('#review-due_at').fill(due);
  await page.getByRole('button', { name: 'Create campaign' }).click();
  await expectText(page.getByRole('status'), 'Campaign created');
  const item = page.getByRole('row').filter({ hasText: 'Approver for user ana' });
  await expectText(item, 'pending');
  await item.getByRole('link', { name: /^Revoke/ }).click();
  await expectText(page.locator('h1'), 'Revoke Approver from user ana?');
  await expectText(page.locator('main'), 'no longer holds Approver');
  await page.getByLabel('Comment (optional)').fill('moved to another team');
  await page.getByRole('button', { name: 'Revoke the grant' }).click();
  await expectText(page.getByRole('status'), 'Grant revoked.');
  await expectText(page.getByRole('row').filter({ hasText: 'Approver for user ana' }), 'revoked');
  await screenshot(page, 'governance-review');
  await page.goto(`${base}/users/${users.ana}?tab=roles`);
  assert.ok(!(await page.locator('tbody').innerText()).includes('Approver'), 'the grant is gone');

  assert.deepEqual(pageErrors, [], 'no script or console error on any page');
  console.log('governance scenario: 1 passed, 0 failed');
} catch (e) {
  console.error(`governance scenario failed at step "${step()}":`);
  console.error(e);
  if (pageErrors.length) console.error('page errors:', pageErrors);
  process.exitCode = 1;
} finally {
  await browser.close();
}
