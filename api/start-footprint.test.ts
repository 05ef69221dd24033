// What the API loads when it starts. The integration modules are imported whole by the API and the worker alike, so
// a static import of an SDK that only the worker or a rare route needs would put it in the API's memory from its
// start (issue 10: ~50 MB of the API's resident memory was these SDKs). They are loaded on first use instead
// (common/lazy-module.ts); this keeps it so.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** Packages the API must not load before a request (or the worker) needs them. */
const loadedOnFirstUse = [
  '@azure/storage-blob', // an organisation's Azure store, or an Azure default store: the first file
  '@linear/sdk', // the first call to Linear (setup, linking) or webhook from it
  '@slack/bolt', // the first request from Slack
  '@slack/oauth', // "Add to Slack"
  '@slack/web-api', // the first call to Slack
  'clamdjs', // the first scan
  'imapflow', // a mailbox read (worker) or the setup form's connection test
  'jimp', // thumbnails (worker)
  'mailauth', // an inbound message's DKIM/SPF/DMARC (worker, or the inbound route)
  'mailparser', // an inbound message
  'minio', // an S3 store: the first file
  'nodemailer', // the first send (worker) or connection test
  'sanitize-html', // the first message or reply with HTML
];

describe('the API at start', () => {
  let loaded: string[];
  before(async function () {
    this.timeout(60_000);
    const script = fileURLToPath(new URL('../test/support/api-start-packages.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script], { env: process.env });
    loaded = JSON.parse(stdout) as string[];
  });

  it('sees every package the app loads (the check below looks at the real list)', () => {
    for (const name of ['express', 'drizzle-orm', '@temporalio/client', 'busboy'])
      assert.ok(loaded.includes(name), name);
  });

  it('has not loaded the SDKs that only the worker or a rare request needs', () => {
    assert.deepEqual(
      loadedOnFirstUse.filter((name) => loaded.includes(name)),
      [],
      'make these imports `import type`, and load the package where it is used (common/lazy-module.ts)',
    );
  });
});
