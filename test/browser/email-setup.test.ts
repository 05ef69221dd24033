// The mailbox setup form edits the email integration's config as strings; what it sends must be what the API's own
// schema accepts (domain/email/config.ts), a stored config must come back unchanged through the form, and the API's
// error paths must land on the form's fields. The thread's sandboxed HTML and the composer's links are decided here
// too.
import assert from 'node:assert/strict';
import { emailConfigSchema } from '../../domain/email/config.ts';
import { applyMergePatch } from '../../domain/merge-patch.ts';
import {
  emailConfigFromDraft,
  emptyRuleDraft,
  errorOf,
  fieldErrorsFrom,
  linkAddress,
  noSecrets,
  parseAddressList,
  portAfterSecurityChange,
  readEmailDraft,
  sandboxedDocument,
  secretsInUse,
  typedSecrets,
  unclaimedErrors,
  verdictTone,
} from '../../packages/dashboard/src/email.ts';
import { mergePatchBetween } from '../../packages/dashboard/src/merge-patch.ts';

const stored = emailConfigSchema.parse({
  address: 'support@acme.test',
  fromName: 'Acme Support',
  aliases: ['help@acme.test'],
  imap: {
    host: 'imap.acme.test',
    port: 143,
    security: 'starttls',
    username: 'support',
    afterIngest: 'move',
    moveTo: 'Filed',
  },
  smtp: { host: 'smtp.acme.test', username: 'support' },
  dkim: { domain: 'acme.test', selector: 'sb1' },
  autoReply: { enabled: true, subject: 'Got it', body: 'We will answer soon.', windowHours: 12 },
  dmarcPolicy: 'hold',
  routing: [
    { fromDomain: 'bigcustomer.test', priority: 'high', tags: ['vip'] },
    { subjectContains: 'outage', tags: ['incident', 'ops'] },
  ],
  branding: { name: 'Acme', accentColor: '#3355ff', footer: 'Acme Ltd' },
});

describe('dashboard: the email mailbox form', () => {
  it('gives the stored config back unchanged when nothing is edited', () => {
    const { config, errors } = emailConfigFromDraft(readEmailDraft('Support', true, stored));
    assert.deepEqual(errors, {});
    assert.deepEqual(emailConfigSchema.parse(config), stored);
    assert.deepEqual(mergePatchBetween(stored, config as unknown as Record<string, unknown>), {});
  });

  it('starts a new mailbox with defaults the API accepts once the address and servers are filled in', () => {
    const draft = readEmailDraft('Support', true, undefined);
    assert.equal(draft.imapOn, false);
    assert.equal(draft.smtpOn, true);
    assert.equal(draft.smtp.port, '587');
    draft.address = 'support@acme.test';
    draft.smtp.host = 'smtp.acme.test';
    const { config, errors } = emailConfigFromDraft(draft);
    assert.deepEqual(errors, {});
    const parsed = emailConfigSchema.parse(config);
    assert.equal(parsed.autoReply.body.length > 0, true, 'the acknowledgement text is never empty');
    assert.deepEqual(parsed.smtp, { host: 'smtp.acme.test', port: 587, security: 'starttls' });
    assert.equal(parsed.imap, null);
  });

  it('turns a stored acknowledgement without text into one the API accepts back', () => {
    // The schema's default for autoReply has an empty body, which the API refuses when it is sent back.
    const old = {
      ...stored,
      autoReply: { enabled: false, subject: 'We received your request', body: '', windowHours: 24 },
    };
    const { config } = emailConfigFromDraft(readEmailDraft('Support', true, old));
    assert.ok(emailConfigSchema.safeParse(config).success);
  });

  it('sends the merge patch that switches IMAP off and drops a rule, which the API applies to the edited config', () => {
    const draft = readEmailDraft('Support', true, stored);
    draft.imapOn = false;
    draft.routing = draft.routing.slice(1);
    draft.routing.push({ ...emptyRuleDraft(9), to: 'billing@acme.test', priority: 'low' });
    draft.branding.footer = '';
    const { config } = emailConfigFromDraft(draft);
    const patch = mergePatchBetween(stored, config as unknown as Record<string, unknown>);
    assert.equal(patch.imap, null);
    const merged = emailConfigSchema.parse(applyMergePatch(stored, patch));
    assert.equal(merged.imap, null);
    assert.deepEqual(merged.routing, [
      { subjectContains: 'outage', tags: ['incident', 'ops'] },
      { to: 'billing@acme.test', priority: 'low' },
    ]);
    assert.deepEqual(merged.branding, { name: 'Acme', accentColor: '#3355ff' });
  });

  it('leaves the folder to move mail to out unless mail is moved', () => {
    const draft = readEmailDraft('Support', true, stored);
    draft.imap.afterIngest = 'flag';
    const { config } = emailConfigFromDraft(draft);
    assert.equal(config.imap?.moveTo, undefined);
    assert.ok(emailConfigSchema.safeParse(config).success);
  });

  it('names a port that is not a number itself, which would otherwise reach the API as null', () => {
    const draft = readEmailDraft('Support', true, stored);
    draft.imap.port = '99x';
    draft.autoReply.windowHours = '';
    assert.deepEqual(emailConfigFromDraft(draft).errors, {
      'imap.port': 'Enter a whole number.',
      'autoReply.windowHours': 'Enter a whole number.',
    });
  });

  it("offers the new security's usual port unless the admin chose their own", () => {
    assert.equal(portAfterSecurityChange('imap', '993', 'tls', 'starttls'), '143');
    assert.equal(portAfterSecurityChange('smtp', '587', 'starttls', 'tls'), '465');
    assert.equal(portAfterSecurityChange('smtp', '2525', 'starttls', 'tls'), '2525');
  });

  it('asks for every secret the config uses when one of them changes (credentials are replaced as a whole)', () => {
    const draft = readEmailDraft('Support', true, stored);
    assert.deepEqual(secretsInUse(draft), ['imapPassword', 'smtpPassword', 'dkimPrivateKey']);
    draft.smtp.username = '';
    draft.dkimOn = false;
    assert.deepEqual(secretsInUse(draft), ['imapPassword']);
    assert.equal(typedSecrets(noSecrets), null);
    assert.deepEqual(typedSecrets({ ...noSecrets, smtpPassword: 'new' }), { smtpPassword: 'new' });
  });

  it("puts the API's errors under their fields, numbering a list's entries, and lists the rest", () => {
    const errors = fieldErrorsFrom([
      { path: 'body.config.imap.host', message: 'must be a host name or an IP address' },
      { path: 'body.config.aliases.1', message: 'Invalid email address' },
      { path: 'body.credentials.smtpPassword', message: 'Too small' },
      { path: 'body.config.routing.0', message: 'a rule needs at least one condition' },
      { path: 'body.config.routing.1.tags.0', message: 'Too small' },
      { path: 'body.config', message: 'something about the whole' },
    ]);
    assert.equal(errorOf(errors, 'imap.host'), 'must be a host name or an IP address');
    assert.equal(errorOf(errors, 'aliases'), 'Entry 2: Invalid email address');
    assert.equal(errorOf(errors, 'smtpPassword'), 'Too small');
    assert.equal(errorOf(errors, 'routing.0', true), 'a rule needs at least one condition');
    assert.equal(errorOf(errors, 'routing.1', true), undefined);
    assert.equal(errorOf(errors, 'routing.1.tags'), 'Entry 1: Too small');
    const fields = [
      { name: 'imap' },
      { name: 'aliases' },
      { name: 'smtpPassword' },
      { name: 'routing.0', exact: true },
      { name: 'routing.1.tags' },
    ];
    assert.deepEqual(unclaimedErrors(errors, fields), [{ path: 'config', message: 'something about the whole' }]);
  });

  it('reads address lists separated by commas, semicolons or spaces, once each', () => {
    assert.deepEqual(parseAddressList(' a@x.test, b@x.test;c@x.test  a@x.test ,'), [
      'a@x.test',
      'b@x.test',
      'c@x.test',
    ]);
  });
});

describe('dashboard: email HTML and links', () => {
  const policy = `default-src 'none'`;

  it('puts the content security policy first in the head of a whole document (our template)', () => {
    const doc = sandboxedDocument(
      '<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>x</title><style>p{}</style></head><body>Hi</body></html>',
    );
    const head = doc.indexOf('<head>');
    assert.ok(head > 0);
    assert.ok(doc.indexOf(policy) > head && doc.indexOf(policy) < doc.indexOf('<title>'));
  });

  it('wraps a fragment, whatever it says about heads, in a document whose policy comes first', () => {
    const doc = sandboxedDocument('<p>see <img src="https://tracker.test/p.gif"></p><html><head>');
    assert.ok(doc.indexOf(policy) < doc.indexOf('<p>see'));
    assert.ok(
      doc.startsWith('<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy"'),
    );
  });

  it('takes web and mail addresses as links, and nothing that could run', () => {
    assert.equal(linkAddress('example.com/help'), 'https://example.com/help');
    assert.equal(linkAddress('https://example.com'), 'https://example.com/');
    assert.equal(linkAddress('ann@example.com'), 'mailto:ann@example.com');
    assert.equal(linkAddress('javascript:alert(1)'), null);
    assert.equal(linkAddress('data:text/html,<script>'), null);
    assert.equal(linkAddress('  '), null);
  });

  it('shows pass as good, fail and softfail as bad, and the rest as neither', () => {
    assert.deepEqual(['pass', 'fail', 'softfail', 'none', 'temperror', 'neutral'].map(verdictTone), [
      'pass',
      'fail',
      'fail',
      'neutral',
      'neutral',
      'neutral',
    ]);
  });
});
