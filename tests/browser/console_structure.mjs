// The console's structure scenario in a real browser (Debian's chromium driven by
// playwright-core): the first administrator signs in with the bootstrap link, builds a
// group tree (Company; Sales and Ops under it; Team under Ops), an information system with
// roles, a user in Team; grants roles to groups and moves Team under Sales, each change
// previewed (who gains and who loses which effective role) before it is applied; makes a
// role grant another, previewed then applied; sets a role's security policy, where an idle
// time out of range is refused next to the field with the range, then a valid one is
// saved; browses the information systems tree; and views Team as of a past instant, read-only.
//
// Environment: LATCHKEY_URL (http://localhost:PORT), LATCHKEY_SIGN_IN_LINK (the bootstrap
// link, on the same origin), LATCHKEY_SCREENSHOTS (optional: a folder for full-page
// screenshots). Exits non-zero, saying which step failed, on any failure.

import assert from 'node:assert/strict';
import { base, launch, link, say, screenshot, step } from './lib.mjs';

const browser = await launch();
const pageErrors = [];

async function expectText(locator, text) {
  await locator.waitFor();
  const got = await locator.innerText();
  assert.ok(got.includes(text), `expected ${JSON.stringify(text)} in ${JSON.stringify(got)}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.setDefaultNavigationTimeout(60000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // A refused form is answered with an error status (422), which is expected.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  const nav = (name) => page.locator('header nav').getByRole('link', { name, exact: true });

  say('the bootstrap link signs the administrator in');
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  await expectText(page.locator('h1'), 'Welcome, admin');

  say('a group tree: Company; Sales and Ops under it; Team under Ops');
  for (const [name, parent] of [['Company', ''], ['Sales', 'Company'], ['Ops', 'Company'], ['Team', 'Ops']]) {
    await page.goto(`${base}/groups`);
    await page.locator('#group-name').fill(name);
    if (parent) await page.locator('#group-parent_id').selectOption({ label: parent });
    await page.getByRole('button', { name: 'Create group' }).click();
    await expectText(page.locator('h1'), name);
  }
  const team = page.url();

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

  say('a subsystem, Cards, under Payments, with a role');
  await page.locator('#system-name').fill('Cards');
  await page.locator('#system-parent_id').selectOption({ label: 'Payments' });
  await page.getByRole('button', { name: 'Create system' }).click();
  await expectText(page.getByRole('status'), 'Information system created');
  await page.locator('#role-system_id').selectOption({ label: 'Cards' });
  await page.locator('#role-name').fill('Issuer');
  await page.getByRole('button', { name: 'Create role' }).click();
  await expectText(page.getByRole('status'), 'Role created');

  say('ana, a member of Team');
  await nav('Users').click();
  await page.getByRole('link', { name: 'New user' }).click();
  await page.locator('#user-user_name').fill('ana');
  await page.locator('#user-first_name').fill('Ana');
  await page.locator('#user-last_name').fill('Diaz');
  await page.locator('#user-email').fill('ana@example.com');
  await page.locator('#user-primary_group_id').selectOption({ label: 'Team' });
  await page.getByRole('button', { name: 'Create user' }).click();
  await expectText(page.locator('h1'), 'Ana Diaz');

  say('Ops is granted Auditor: the preview shows ana gaining it, then it is applied');
  const grantTo = async (group, role, gains) => {
    await page.goto(`${base}/groups`);
    await page.locator('#group-tree').getByRole('link', { name: 'Company' }).click();
    await page.getByRole('link', { name: group, exact: true }).click();
    await expectText(page.locator('h1'), group);
    await page.locator('#grant-role_id').selectOption({ label: `Payments / ${role}` });
    await page.getByRole('button', { name: 'Preview the grant' }).click();
    await expectText(page.locator('h1'), 'Preview of the change');
    await expectText(page.locator('#gains-heading'), `Would gain (${gains})`);
    await page.getByRole('button', { name: 'Apply the change' }).click();
    await expectText(page.getByRole('status'), 'Role granted to the group.');
  };
  await grantTo('Ops', 'Auditor', 1);
  await expectText(page.locator('section', { has: page.locator('#grants-heading') }), 'Payments / Auditor');
  await grantTo('Sales', 'Approver', 0);

  // The instant Team is viewed at later: ana is its only member then.
  await sleep(1100);
  const past = new Date().toISOString().slice(0, 19);
  await sleep(1100);

  say('moving Team under Sales: the preview lists who gains and who loses which role');
  await page.goto(team);
  await page.getByLabel('New parent group (name)').fill('Sales');
  await page.getByRole('button', { name: 'Preview the move' }).click();
  await expectText(page.locator('h1'), 'Preview of the change');
  await expectText(page.locator('p.lead'), 'Move the group Team under Sales.');
  await expectText(page.locator('table.gains'), 'Payments / Approver');
  await expectText(page.locator('table.gains'), 'ana');
  await expectText(page.locator('table.losses'), 'Payments / Auditor');
  await screenshot(page, 'structure-group-move-preview');
  await page.getByRole('button', { name: 'Apply the change' }).click();
  await expectText(page.getByRole('status'), 'Group moved.');
  await expectText(page.locator('.crumbs'), 'Sales');

  say('a second member joins Team after the instant viewed later');
  await page.goto(`${base}/users/new`);
  await page.locator('#user-user_name').fill('bob');
  await page.locator('#user-first_name').fill('Bob');
  await page.locator('#user-last_name').fill('Brown');
  await page.locator('#user-email').fill('bob@example.com');
  await page.locator('#user-primary_group_id').selectOption({ label: 'Team' });
  await page.getByRole('button', { name: 'Create user' }).click();
  await expectText(page.locator('h1'), 'Bob Brown');

  say('the systems tree and the Payments page');
  await nav('Systems').click();
  await expectText(page.locator('h1'), 'Information systems');
  const systems = page.locator('#system-tree');
  assert.equal(await systems.getByRole('link', { name: 'Cards' }).count(), 0, 'subsystems load when opened');
  await systems.getByRole('button', { name: 'Show subsystems and roles of Payments' }).click();
  await systems.getByRole('link', { name: 'Cards' }).waitFor();
  await systems.getByRole('link', { name: 'Approver' }).waitFor();
  await systems.getByRole('button', { name: 'Show subsystems and roles of Cards' }).click();
  await systems.getByRole('link', { name: 'Issuer' }).waitFor();
  await screenshot(page, 'structure-systems');
  await page.locator('#system-tree').getByRole('link', { name: 'Payments' }).click();
  await expectText(page.locator('h1'), 'Payments');

  say('Approver grants Clerk: previewed (ana gains Clerk), then applied');
  await page.getByRole('link', { name: 'Approver', exact: true }).click();
  await expectText(page.locator('h1'), 'Approver');
  const approver = page.url();
  await page.locator('#granted-child_id').selectOption({ label: 'Payments / Clerk' });
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  await expectText(page.locator('h1'), 'Preview of the change');
  await expectText(page.locator('table.gains'), 'Payments / Clerk');
  await expectText(page.locator('table.gains'), 'ana');
  await page.getByRole('button', { name: 'Apply the change' }).click();
  await expectText(page.getByRole('status'), 'Inheritance added');
  await expectText(page.locator('section', { has: page.locator('#granted-heading') }), 'Payments / Clerk');

  say('the security policy: 5 minutes is refused next to the field, 90 is saved');
  await page.getByLabel('Require passkey enrollment').check();
  await page.getByLabel('Idle auto logout').selectOption({ label: 'Custom' });
  await page.getByLabel('Custom idle time, in minutes').fill('5');
  await page.getByRole('button', { name: 'Save the policy' }).click();
  await expectText(page.locator('#policy-idle_custom-error'), 'from 15 (15 minutes) to 1440 (24 hours)');
  assert.equal(await page.getByLabel('Custom idle time, in minutes').inputValue(), '5', 'what was typed stays');
  assert.equal(
    await page.getByLabel('Custom idle time, in minutes').getAttribute('aria-describedby'),
    'policy-idle_custom-error',
    'the message is tied to the field',
  );
  await page.getByLabel('Custom idle time, in minutes').fill('90');
  await page.getByRole('button', { name: 'Save the policy' }).click();
  await expectText(page.getByRole('status'), 'Security policy saved');
  assert.equal(await page.getByLabel('Custom idle time, in minutes').inputValue(), '90');
  assert.ok(await page.getByLabel('Require passkey enrollment').isChecked());
  await expectText(page.locator('section', { has: page.locator('#holders-heading') }), 'ana');
  await screenshot(page, 'structure-role-page');
  assert.equal(page.url().split('?')[0], approver);

  say('Team as of the earlier instant: ana only, labelled as past and read-only');
  await page.goto(team);
  await page.getByLabel('Date and time (UTC)').fill(past);
  await page.getByRole('button', { name: 'Show the group then' }).click();
  await expectText(page.locator('h1'), 'as of');
  await expectText(page.getByRole('status'), 'Past state, read-only.');
  await expectText(page.locator('#then-members-heading'), 'Members then (1)');
  const members = page.locator('section', { has: page.locator('#then-members-heading') });
  await expectText(members, 'ana');
  assert.ok(!(await members.innerText()).includes('bob'), 'bob joined later');
  assert.equal(await page.locator('main form[method="post"]').count(), 0, 'nothing to change on a past state');
  await screenshot(page, 'structure-group-as-of');
  await page.getByRole('link', { name: 'Team now' }).click();
  await expectText(page.locator('#member-count'), '2 members');

  assert.deepEqual(pageErrors, [], 'no script or console error on any page');
  console.log('console structure scenario: 1 passed, 0 failed');
} catch (e) {
  console.error(`console structure scenario failed at step "${step()}":`);
  console.error(e);
  if (pageErrors.length) console.error('page errors:', pageErrors);
  process.exitCode = 1;
} finally {
  await browser.close();
}
