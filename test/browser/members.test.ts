// The Members page and an invitation link in a real browser against the real API: an admin invites someone, the
// invitee (a browser with no session) sets a password through the link and lands in the organisation, and the
// admin changes roles, meets the last-admin rule, revokes an invitation and removes a member — all through the UI.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { createTestOrganization, startTestApi, type TestApi, type TestUser } from '../support/api.ts';
import { type Browser, launchChromium } from './support/chromium.ts';
import { buildDashboard } from './support/dashboard-build.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../.artifacts/screenshots');

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `members-${name}.png`), fullPage: true });
}

describe('Members page and invitation links (Chromium against the real API)', function () {
  this.timeout(60_000);
  let api: TestApi;
  let admin: TestUser;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const inviteeEmail = `nia-${Date.now()}@example.test`;
  const inviteePassword = 'nia-chooses-a-password';
  let link = '';

  async function signInAsAdmin(): Promise<void> {
    await page.goto(`${api.baseUrl}/login?next=${encodeURIComponent('/settings/members')}`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
  }

  const memberRow = (name: string) =>
    page.getByRole('table', { name: 'Members' }).getByRole('row').filter({ hasText: name });

  before(async function () {
    this.timeout(180_000);
    browser = await launchChromium();
    const dashboardDir = await buildDashboard();
    api = await startTestApi({ dashboardDir });
    admin = await createTestOrganization({ role: 'admin', api, name: 'Acme Support', userName: 'Ada Admin' });
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterEach(() => {
    assert.deepEqual(pageErrors.splice(0), [], 'the page threw uncaught errors');
  });

  after(async () => {
    await browser?.close();
    await api?.close();
  });

  it('lets an admin invite by email and role, showing the link once with the warning that no email is sent', async () => {
    await signInAsAdmin();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).waitFor();
    await memberRow('Ada Admin').waitFor();

    const form = page.getByRole('form', { name: 'Invite someone' });
    await form.getByLabel('Email').fill(inviteeEmail);
    await form.getByLabel('Role').selectOption('agent');
    await form.getByRole('button', { name: 'Create invitation link' }).click();

    const field = page.getByLabel('Invitation link');
    await field.waitFor();
    link = await field.inputValue();
    assert.match(link, new RegExp(`^${api.baseUrl}/join#sbi_[A-Za-z0-9_-]{43}$`));
    await page.getByText('Switchboard does not send email yet').waitFor();
    await page.getByText("you won't see it again").waitFor();
    await screenshot(page, 'invitation-link');

    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.getByLabel('Invitation link').count(), 0, 'the link is gone once dismissed');
    const pending = page.getByRole('table', { name: 'Pending invitations' });
    await pending.getByRole('row').filter({ hasText: inviteeEmail }).waitFor();
    assert.ok(!((await pending.textContent()) ?? '').includes('sbi_'), 'the list never shows the token');
  });

  it('names a wrong address from the API beside the invite form, and keeps the only admin an admin (409)', async () => {
    const form = page.getByRole('form', { name: 'Invite someone' });
    await form.getByLabel('Email').fill(admin.email);
    await form.getByRole('button', { name: 'Create invitation link' }).click();
    await form
      .getByRole('alert')
      .filter({ hasText: `This organisation already has a member with the address ${admin.email}` })
      .waitFor();

    await page.getByLabel('Role of Ada Admin').selectOption('viewer');
    await page
      .getByRole('alert')
      .filter({ hasText: "Ada Admin is the organisation's only admin and cannot be demoted" })
      .waitFor();
    assert.equal(await page.getByLabel('Role of Ada Admin').inputValue(), 'admin');
    await screenshot(page, 'last-admin');
  });

  it('lets the invitee, in a browser without a session, set a password through the link and land in the organisation', async () => {
    // Another person's browser: no cookie of the admin's.
    await browser.context.clearCookies();
    await page.goto(link);
    await page.getByRole('heading', { name: 'Join Acme Support' }).waitFor();
    await page.getByText('Ada Admin invited').waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), inviteeEmail);

    await page.getByLabel('Your name').fill('Nia Newcomer');
    await page.getByLabel('Choose a password').fill(inviteePassword);
    await page.getByLabel('Repeat the password').fill('a-different-password');
    await page.getByRole('button', { name: 'Create account and join Acme Support' }).click();
    await page.getByRole('alert').filter({ hasText: 'The two passwords differ' }).waitFor();

    await page.getByLabel('Repeat the password').fill(inviteePassword);
    await screenshot(page, 'join');
    await page.getByRole('button', { name: 'Create account and join Acme Support' }).click();
    await page.getByRole('heading', { name: 'Tickets', exact: true }).waitFor();
    const account = page.getByRole('region', { name: 'Signed-in user' });
    await account.getByText('Nia Newcomer').waitFor();
    await account.getByText('Acme Support').waitFor();
    assert.equal(await account.locator('.role').textContent(), 'agent');

    // An agent sees the members, and no way to manage them.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
    await memberRow('Ada Admin').waitFor();
    assert.equal(await page.getByRole('form', { name: 'Invite someone' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Remove/ }).count(), 0);

    // The link worked once.
    await page.goto(link);
    await page.getByRole('alert').filter({ hasText: 'This invitation has already been used' }).waitFor();
  });

  it('lets the admin change the newcomer’s role, revoke an invitation and remove a member', async () => {
    await page.goto(`${api.baseUrl}/tickets`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    await signInAsAdmin();

    await page.getByLabel('Role of Nia Newcomer').selectOption('viewer');
    await page.getByRole('status').filter({ hasText: 'Nia Newcomer is now a viewer.' }).waitFor();
    assert.equal(await page.getByLabel('Role of Nia Newcomer').inputValue(), 'viewer');

    const form = page.getByRole('form', { name: 'Invite someone' });
    await form.getByLabel('Email').fill('changed-my-mind@example.test');
    await form.getByRole('button', { name: 'Create invitation link' }).click();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Revoke the invitation for changed-my-mind@example.test' }).click();
    await page.getByRole('status').filter({ hasText: 'its link no longer works' }).waitFor();
    await page.getByText('No pending invitations.').waitFor();

    await page.getByRole('button', { name: 'Remove Nia Newcomer' }).click();
    await screenshot(page, 'confirm-removal');
    await page.getByRole('button', { name: 'Confirm removal' }).click();
    await page.getByRole('status').filter({ hasText: 'Nia Newcomer was removed from the organisation.' }).waitFor();
    assert.equal(await memberRow('Nia Newcomer').count(), 0);
    await screenshot(page, 'members');
  });
});
