// IntegrationHealthMonitor in a real browser against the real API: an integration whose third party fails shows as
// failing, with the reason recorded, its error rate and its history; when calls succeed again it recovers.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { integrationConfigs } from '@switchboard/database';
import type { Page } from 'playwright-core';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import { createTestOrganization, startTestApi, type TestApi, type TestUser } from '../support/api.ts';
import { testDatabase } from '../support/database.ts';
import { type Browser, launchChromium } from './support/chromium.ts';
import { buildDashboard } from './support/dashboard-build.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../.artifacts/screenshots');

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `integration-health-${name}.png`), fullPage: true });
}

describe('IntegrationHealthMonitor (Chromium against the real API)', function () {
  this.timeout(90_000);
  const { db } = testDatabase();
  let api: TestApi;
  let admin: TestUser;
  let browser: Browser;
  let page: Page;
  let endpointId: string;
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(240_000);
    browser = await launchChromium();
    const dashboardDir = await buildDashboard();
    api = await startTestApi({ dashboardDir });
    admin = await createTestOrganization({ role: 'admin', api, name: 'Healthy Ltd', userName: 'Ada Admin' });
    const [row] = await db
      .insert(integrationConfigs)
      .values({ organizationId: admin.organizationId, integrationType: 'webhook', name: 'Ops hook', config: {} })
      .returning();
    assert.ok(row);
    endpointId = row.id;

    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${api.baseUrl}/login?next=${encodeURIComponent('/settings/integrations')}`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
  });

  afterEach(() => {
    assert.deepEqual(pageErrors.splice(0), [], 'the page threw uncaught errors');
  });

  after(async () => {
    await browser?.close();
    await api?.close();
  });

  const row = () => page.getByTestId(`health-${endpointId}`);

  it('shows an integration that has not been used yet as such', async () => {
    await page.getByRole('heading', { name: 'Integration health' }).waitFor();
    await row().getByText('Not used yet').waitFor();
    await row()
      .getByRole('rowheader', { name: /Ops hook/ })
      .waitFor();
    const workflows = row().getByRole('link', { name: 'Workflows' });
    assert.match((await workflows.getAttribute('href')) ?? '', /IntegrationType%3D%22webhook%22/);
  });

  it('shows a failing integration with the reason, its error rate and its history', async () => {
    const now = Date.now();
    await recordIntegrationOutcome(db, admin.organizationId, endpointId, { ok: true, at: new Date(now - 20 * 60_000) });
    await recordIntegrationOutcome(db, admin.organizationId, endpointId, {
      ok: false,
      error: 'the endpoint answered 503 Service Unavailable',
      at: new Date(now - 60_000),
    });
    await page.reload();
    await row().getByText('Failing', { exact: true }).waitFor();
    await row().getByText('the endpoint answered 503 Service Unavailable').waitFor();
    await row().locator('.health-rate').getByText('50%').waitFor();
    await row().getByText('1 of 2').waitFor();
    await row().getByRole('img', { name: 'Ops hook: 1 successes and 1 errors over six hours' }).waitFor();
    await page.getByText(/\d+ needs? attention\./).waitFor();
    await row().scrollIntoViewIfNeeded();
    await screenshot(page, 'failing');
  });

  it('recovers when the next call succeeds', async () => {
    await recordIntegrationOutcome(db, admin.organizationId, endpointId, { ok: true });
    await page.reload();
    await row().getByText('Healthy', { exact: true }).waitFor();
    // The last error stays on show, with when it happened, so the failure can still be read.
    await row().getByText('the endpoint answered 503 Service Unavailable').waitFor();
    await screenshot(page, 'recovered');
  });

  it('shows the notification rules, not a broken form, when adding Notifications', async () => {
    await page.getByRole('button', { name: 'Add integration' }).click();
    await page.getByLabel('Type').selectOption({ label: 'Notifications' });
    await page.getByRole('list', { name: 'Notification rules' }).getByRole('heading', { name: 'SLA breach' }).waitFor();
    await page.getByText('Notifications need no connection').waitFor();
    await screenshot(page, 'notifications-setup');
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('heading', { name: 'Add integration' }).waitFor({ state: 'detached' });
  });
});
