// The console's first scenario in a real browser (Debian's chromium driven by
// playwright-core): the first administrator signs in with the bootstrap link, builds a
// group tree, an information system with roles where one inherits another, a user in the
// child group; grants the parent role to the parent group; sees on the user's page the tree
// of paths that give each role; an SoD rule is added (REST API, with the browser's session)
// and a grant it forbids is refused on screen, naming the rule; the audit trail is filtered,
// an access snapshot pinned in the Security Center, an API token created on My account
// with its secret shown once; signs out.
//
// Environment: LATCHKEY_URL (http://localhost:PORT), LATCHKEY_SIGN_IN_LINK (the bootstrap
// link, on the same origin), LATCHKEY_SCREENSHOTS (optional: a folder for full-page
// screenshots of the main pages). Exits non-zero, saying which step failed, on any failure.

import assert from 'node:assert/strict';
import { base, launch, link, say, screenshot, step } from './lib.mjs';
import { checkPages } from './axe.mjs';

const browser = await launch();
const pageErrors = [];

async function expectText(locator, text) {
  await locator.waitFor();
  const got = await locator.innerText();
  assert.ok(got.includes(text), `expected ${JSON.stringify(text)} in ${JSON.stringify(got)}`);
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  // Generous: CI runs this beside the rest of the test suite on two cores.
  page.setDefaultTimeout(30000);
  page.setDefaultNavigationTimeout(60000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // Script errors and refusals by the content security policy fail the scenario; a
  // page answered with an error status (the refused grant's 409) is expected.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  const nav = (name) => page.locator('header nav').getByRole('link', { name, exact: true });

  say('the sign-in page');
  await page.goto(`${base}/`);
  await expectText(page.locator('h1'), 'Sign in to Latchkey');
  await page.getByLabel('User name').waitFor();
  await page.getByLabel('Email address').waitFor();
  await screenshot(page, 'sign-in');

  say('the keyboard: the first Tab reaches the skip link, which leads to the main content');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to main content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');

  say('the bootstrap link signs the administrator in');
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  await expectText(page.locator('h1'), 'Welcome, admin');

  say('a group tree: Finance, and Accounts under it');
  await nav('Groups').click();
  await page.locator('#group-name').fill('Finance');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expectText(page.locator('h1'), 'Finance');
  await page.goto(`${base}/groups`);
  await page.locator('#group-name').fill('Accounts');
  await page.locator('#group-parent_id').selectOption({ label: 'Finance' });
  await page.getByRole('button', { name: 'Create group' }).click();
  await expectText(page.locator('h1'), 'Accounts');
  await expectText(page.locator('.crumbs'), 'Finance');

  say('the tree opens Finance lazily');
  await page.goto(`${base}/groups`);
  const tree = page.locator('#group-tree');
  assert.equal(await tree.getByRole('link', { name: 'Accounts' }).count(), 0, 'subgroups load when opened');
  await tree.getByRole('button', { name: 'Show subgroups of Finance' }).click();
  await tree.getByRole('link', { name: 'Accounts' }).waitFor();
  await screenshot(page, 'groups');

  say('an information system and three roles');
  await nav('Roles').click();
  await page.locator('#system-name').fill('Payments');
  await page.getByRole('button', { name: 'Create system' }).click();
  await expectText(page.getByRole('status'), 'Information system created');
  for (const role of ['Approver', 'Clerk', 'Auditor']) {
    await page.locator('#role-system_id').selectOption({ label: 'Payments' });
    await page.locator('#role-name').fill(role);
    await page.getByRole('button', { name: 'Create role' }).click();
    await expectText(page.getByRole('status'), 'Role created');
  }

  say('Approver grants Clerk (mandatory)');
  await page.locator('#inherit-parent_id').selectOption({ label: 'Payments / Approver' });
  await page.locator('#inherit-role_id').selectOption({ label: 'Payments / Clerk' });
  assert.ok(await page.locator('#inherit-mandatory').isChecked(), 'mandatory by default');
  await page.getByRole('button', { name: 'Add inheritance' }).click();
  await expectText(page.locator('h1'), 'Preview of the change');
  await page.getByRole('button', { name: 'Apply the change' }).click();
  await expectText(page.getByRole('status'), 'Inheritance added');
  await expectText(
    page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Approver' }) }),
    'Payments / Clerk (mandatory)',
  );
  await screenshot(page, 'roles');

  say('a user in Accounts');
  await nav('Users').click();
  await page.getByRole('link', { name: 'New user' }).click();
  await page.locator('#user-user_name').fill('ana');
  await page.locator('#user-first_name').fill('Ana');
  await page.locator('#user-last_name').fill('Diaz');
  await page.locator('#user-email').fill('ana@example.com');
  await page.locator('#user-primary_group_id').selectOption({ label: 'Accounts' });
  await page.getByRole('button', { name: 'Create user' }).click();
  await expectText(page.locator('h1'), 'Ana Diaz');
  const anaPath = new URL(page.url()).pathname;

  say('Finance is granted Approver');
  await page.goto(`${base}/groups`);
  await page.locator('#group-tree').getByRole('link', { name: 'Finance' }).click();
  await expectText(page.locator('h1'), 'Finance');
  const financePath = new URL(page.url()).pathname;
  await page.locator('#grant-role_id').selectOption({ label: 'Payments / Approver' });
  await page.getByRole('button', { name: 'Preview the grant' }).click();
  await expectText(page.locator('h1'), 'Preview of the change');
  await page.getByRole('button', { name: 'Apply the change' }).click();
  await expectText(page.locator('section', { has: page.locator('#grants-heading') }), 'Payments / Approver');

  say('the users list finds ana');
  await nav('Users').click();
  await page.getByLabel('Search', { exact: true }).fill('ana');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('link', { name: 'ana', exact: true }).waitFor();
  await page.goto(`${base}/users`);
  await screenshot(page, 'users');

  say("ana's effective access: Clerk via role Approver via group Finance");
  await page.getByRole('link', { name: 'ana', exact: true }).click();
  await page.getByRole('link', { name: 'Effective access' }).click();
  const provenance = page.locator('ul.provenance');
  await expectText(provenance, 'Payments / Clerk');
  const clerk = provenance.locator(':scope > li').filter({ hasText: 'Payments / Clerk' });
  await expectText(clerk, 'via role Approver');
  await expectText(clerk, 'via group Finance');
  await expectText(clerk, 'member of its subgroup Accounts');
  const approver = provenance.locator(':scope > li').filter({ hasText: 'Payments / Approver' });
  await expectText(approver, 'via group Finance');
  await screenshot(page, 'user-access');

  say('an SoD rule forbids Approver with Auditor (REST API, with the session)');
  const created = await page.evaluate(async () => {
    const roles = await (await fetch('/api/v1/roles?limit=1000')).json();
    // The seeded `latchkey` system has an Auditor too: take the roles of Payments.
    const approverRole = roles.items.find((r) => r.name === 'Approver');
    const byName = Object.fromEntries(
      roles.items.filter((r) => r.system_id === approverRole.system_id).map((r) => [r.name, r]),
    );
    const csrf = document.cookie
      .split('; ')
      .find((c) => c.startsWith('latchkey_csrf='))
      ?.split('=')[1];
    const res = await fetch('/api/v1/sod-rules', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({
        name: 'Approvers do not audit',
        system_id: byName.Approver.system_id,
        kind: 'all',
        risk: 'forbidden',
        role_ids: [byName.Approver.id, byName.Auditor.id],
      }),
    });
    return { status: res.status, body: await res.text() };
  });
  assert.equal(created.status, 201, created.body);

  say('granting Auditor to ana is refused on screen, naming the rule');
  await page.locator('.tabs').getByRole('link', { name: 'Roles' }).click();
  await page.locator('#grant-role_id').selectOption({ label: 'Payments / Auditor' });
  await page.getByRole('button', { name: 'Grant', exact: true }).click();
  await expectText(page.getByRole('alert'), 'Approvers do not audit');
  assert.equal(
    await page.locator('#grant-role_id').inputValue(),
    await page.locator('#grant-role_id option', { hasText: 'Payments / Auditor' }).getAttribute('value'),
    'the refused form keeps the chosen role',
  );
  await screenshot(page, 'user-sod-refused');

  say('the audit trail, filtered to the groups created');
  await nav('Audit').click();
  await expectText(page.locator('h1'), 'Audit trail');
  await page.getByLabel('Action', { exact: true }).fill('group.create');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expectText(page.locator('tbody'), 'group.create');
  assert.ok(!(await page.locator('tbody').innerText()).includes('role.create'), 'the filter narrows');
  assert.ok(
    (await page.getByRole('link', { name: 'Download these entries as CSV' }).getAttribute('href')).includes('action=group.create'),
    'the CSV link carries the filter',
  );
  await screenshot(page, 'audit');

  say('the Security Center: an access snapshot is pinned');
  await nav('Security').click();
  await expectText(page.locator('h1'), 'Security Center');
  await page.getByRole('link', { name: 'Access snapshots' }).click();
  await page.getByLabel('Name').fill('Before the audit');
  await page.getByRole('button', { name: 'Create snapshot' }).click();
  await expectText(page.getByRole('status'), 'Access snapshot created.');
  await expectText(page.locator('tbody'), 'Before the audit');
  await screenshot(page, 'security');

  say('my account: an API token, its secret shown once');
  await nav('My account').click();
  await expectText(page.locator('h1'), 'My account');
  await expectText(page.locator('#sessions-heading + table'), 'this session');
  await page.getByLabel('Name').fill('nightly export');
  await page.getByRole('button', { name: 'Create token' }).click();
  await expectText(page.getByRole('alert'), 'shown only this once');
  const secret = await page.getByLabel('Secret').inputValue();
  assert.ok(secret.startsWith('lk_'), `a token secret, not ${JSON.stringify(secret)}`);
  await page.getByRole('link', { name: 'Back to my account' }).click();
  await expectText(page.locator('#tokens-heading ~ table'), 'nightly export');
  assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');
  await screenshot(page, 'account');

  say("every main page passes axe-core's WCAG 2 A/AA and best-practice checks");
  // axe runs as an inline script, which the console's policy forbids: its own context,
  // with this session's cookie.
  const axeContext = await browser.newContext({
    viewport: { width: 1280, height: 860 },
    bypassCSP: true,
    storageState: await context.storageState(),
  });
  const axePage = await axeContext.newPage();
  await axePage.goto(`${base}/roles`);
  const rolePath = await axePage.getByRole('link', { name: 'Approver', exact: true }).first().getAttribute('href');
  assert.ok(rolePath && rolePath.startsWith('/roles/'), `a role page link, not ${rolePath}`);
  const tabs = ['details', 'groups', 'roles', 'access', 'sessions', 'security', 'activity'];
  const checked = await checkPages(axePage, base, [
    '/', '/users', '/users/new', '/users/invite', '/users/import',
    ...tabs.map((tab) => `${anaPath}?tab=${tab}`),
    `${anaPath}/delete`, `${anaPath}/disable`,
    '/groups', financePath, '/systems', '/roles', rolePath,
    '/rules', '/rules/new', '/sod', '/sod/new', '/approvals', '/reviews', '/reviews/new',
    '/audit', '/security', '/security/alerts', '/security/snapshots', '/security/charts',
    '/account', '/workspaces',
  ]);
  console.log(`  ${checked} pages checked`);
  await axeContext.close();

  say('signing out');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectText(page.locator('h1'), 'Sign in to Latchkey');
  await page.goto(`${base}/users`);
  await expectText(page.locator('h1'), 'Sign in to Latchkey');

  assert.deepEqual(pageErrors, [], 'no script or console error on any page');
  console.log('console scenario: 1 passed, 0 failed');
} catch (e) {
  console.error(`console scenario failed at step "${step()}":`);
  console.error(e);
  if (pageErrors.length) console.error('page errors:', pageErrors);
  process.exitCode = 1;
} finally {
  await browser.close();
}
