// A support mailbox's settings (an integration of type email): its addresses, where mail is read (IMAP, or only the
// inbound webhook), where replies leave (SMTP), DKIM signing, the acknowledgement, what happens to mail that fails
// DMARC, routing rules and the branding of outgoing mail. "Test connection" tries IMAP and SMTP as typed, before
// anything is saved, and shows the server's trouble in plain words. Saving creates the integration or sends the
// merge patch from the stored config (RFC 7396); the API's per-field errors are shown under their fields. Passwords
// and the DKIM key are never shown back: the API only gives a hint of the stored credentials.

import { type FormEvent, useId, useRef, useState } from 'react';
import {
  ApiError,
  createIntegration,
  type DmarcPolicy,
  describeError,
  type EmailInboundSecret,
  type ErrorDetail,
  generateEmailInboundSecret,
  type Integration,
  type MailConnectionResult,
  type MailConnectionTest,
  type MailSecurity,
  type TicketPriority,
  testMailConnection,
  ticketPriorities,
  updateIntegration,
} from '../../api.ts';
import {
  type EmailDraft,
  type EmailSecrets,
  emailConfigFromDraft,
  emptyRuleDraft,
  errorOf,
  type FieldErrors,
  fieldErrorsFrom,
  noSecrets,
  portAfterSecurityChange,
  readEmailDraft,
  secretsInUse,
  typedSecrets,
  unclaimedErrors,
} from '../../email.ts';
import { humanize } from '../../format.ts';
import { mergePatchBetween } from '../../merge-patch.ts';
import { CopyField } from '../CopyField.tsx';
import { ErrorNotice, FieldError, SuccessNotice } from '../Notices.tsx';
import { TextField } from '../TextField.tsx';
import type { IntegrationSetupProps } from './setupComponents.ts';

const securityLabels: Record<MailSecurity, string> = {
  tls: 'TLS (from the first byte)',
  starttls: 'STARTTLS (upgrade after connecting)',
  none: 'None (unencrypted)',
};

const dmarcLabels: Record<DmarcPolicy, { label: string; hint: string }> = {
  accept: { label: 'Accept', hint: 'File it like any other mail.' },
  flag: { label: 'Flag', hint: 'File it with a warning on the ticket (the default).' },
  hold: { label: 'Hold for review', hint: 'Keep it out of the tickets until an agent releases it (Held mail).' },
};

const secretLabels: Record<keyof EmailSecrets, string> = {
  imapPassword: 'IMAP password',
  smtpPassword: 'SMTP password',
  dkimPrivateKey: 'DKIM private key',
};

type SaveError = { message: string; details: ErrorDetail[] };

/**
 * What a failed request says beside the form: the errors no field shows, or (when every one is under its field) a
 * pointer to them, or the API's message when it named no field.
 */
function FormErrors({ error, fields }: { error: SaveError; fields: { name: string; exact?: boolean }[] }) {
  const leftover = unclaimedErrors(fieldErrorsFrom(error.details), fields);
  if (leftover.length > 0) return <ErrorNotice message={error.message} details={leftover} />;
  return <ErrorNotice message={error.details.length > 0 ? 'Please correct the fields marked above.' : error.message} />;
}

function SecuritySelect({
  id,
  protocol,
  value,
  onChange,
}: {
  id: string;
  protocol: 'IMAP' | 'SMTP';
  value: MailSecurity;
  onChange: (value: MailSecurity) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{protocol} security</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as MailSecurity)}>
        {(Object.keys(securityLabels) as MailSecurity[]).map((s) => (
          <option key={s} value={s}>
            {securityLabels[s]}
          </option>
        ))}
      </select>
    </div>
  );
}

function ConnectionResult({ result, draft }: { result: MailConnectionResult; draft: EmailDraft }) {
  return (
    <section aria-label="Connection test" className="email-connection-test">
      <ul className="email-connection-results">
        {result.imap && (
          <li className={result.imap.ok ? 'connection-ok' : 'connection-failed'}>
            <strong>IMAP:</strong>{' '}
            {result.imap.ok
              ? `connected and opened ${draft.imap.mailbox || 'INBOX'}. ${
                  result.imap.idle
                    ? 'The server has IDLE: new mail arrives at once.'
                    : `The server has no IDLE: Switchboard looks for new mail every ${draft.imap.pollIntervalSeconds} seconds.`
                }`
              : result.imap.error}
          </li>
        )}
        {result.smtp && (
          <li className={result.smtp.ok ? 'connection-ok' : 'connection-failed'}>
            <strong>SMTP:</strong>{' '}
            {result.smtp.ok
              ? draft.smtp.username.trim()
                ? 'connected and signed in.'
                : 'connected (no sign-in: the server takes mail from this deployment as it is).'
              : result.smtp.error}
          </li>
        )}
      </ul>
    </section>
  );
}

/** A saved mailbox's inbound webhook: a new secret, shown once with the URL a provider posts raw mail to. */
function InboundWebhook({ integration }: { integration: Integration }) {
  const id = useId();
  const [secret, setSecret] = useState<EmailInboundSecret | null>(null);
  const [generating, setGenerating] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function generate() {
    setGenerating(true);
    setError(null);
    try {
      setSecret(await generateEmailInboundSecret(integration.id));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setGenerating(false);
    }
  }

  return (
    <fieldset className="email-section">
      <legend>Inbound webhook</legend>
      <p className="hint">
        For mail providers that post received mail to a URL (raw MIME, <code>message/rfc822</code>) instead of, or as
        well as, IMAP. Generating a secret replaces any earlier one: a provider still using that one is refused.
      </p>
      {error && <ErrorNotice message={error} />}
      {secret ? (
        <section className="secret-reveal" aria-labelledby={`${id}-title`}>
          <h3 id={`${id}-title`}>Inbound webhook secret</h3>
          <p className="secret-warning">
            Copy the secret now: <strong>you won't see it again.</strong> Switchboard keeps only a hash of it.
          </p>
          <CopyField id={`${id}-url`} label="Webhook URL" value={secret.url} noun="URL" />
          <CopyField id={`${id}-secret`} label="Secret" value={secret.secret} noun="secret" />
          <p className="hint">
            The provider authenticates with HTTP Basic (user <code>switchboard</code>, the secret as password) or with{' '}
            <code>Authorization: Bearer</code> and the secret.
          </p>
          <div className="form-actions">
            <button type="button" className="button-secondary" onClick={() => setSecret(null)}>
              I have saved the secret
            </button>
          </div>
        </section>
      ) : (
        <div className="form-actions">
          <button type="button" className="button-secondary" onClick={() => void generate()} disabled={generating}>
            {generating ? 'Generating…' : 'Generate inbound webhook secret'}
          </button>
        </div>
      )}
    </fieldset>
  );
}

export function EmailIntegrationSetup({ integration, onSaved, onCancel }: IntegrationSetupProps) {
  const id = useId();
  const [current, setCurrent] = useState<Integration | null>(integration ?? null);
  const [draft, setDraft] = useState<EmailDraft>(() =>
    readEmailDraft(integration?.name ?? 'Support mailbox', integration?.isActive ?? true, integration?.config),
  );
  const [secrets, setSecrets] = useState<EmailSecrets>(noSecrets);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saveError, setSaveError] = useState<SaveError | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const [testResult, setTestResult] = useState<MailConnectionResult | null>(null);
  const [testError, setTestError] = useState<SaveError | null>(null);
  const nextRuleKey = useRef(draft.routing.length);
  const f = (name: string) => `${id}-${name.replaceAll('.', '-')}`;
  const err = (name: string, exact = false) => errorOf(errors, name, exact);

  /** Changes the draft; the errors of the fields it touched described them as they were. */
  function edit(change: (d: EmailDraft) => EmailDraft, ...fields: string[]) {
    setDraft(change);
    setSaved(null);
    // A connection test spoke of the settings as they were.
    if (fields.some((name) => /^(imap|smtp)/.test(name))) setTestResult(null);
    if (!fields.some((name) => err(name))) return;
    const remaining = Object.fromEntries(
      Object.entries(errors).filter(([k]) => !fields.some((name) => k === name || k.startsWith(`${name}.`))),
    );
    setErrors(remaining);
    // Every field the API named is fixed: its summary has nothing left to say.
    if (Object.keys(remaining).length === 0) setSaveError(null);
  }
  const setImap = (change: Partial<EmailDraft['imap']>) =>
    edit((d) => ({ ...d, imap: { ...d.imap, ...change } }), ...Object.keys(change).map((k) => `imap.${k}`));
  const setSmtp = (change: Partial<EmailDraft['smtp']>) =>
    edit((d) => ({ ...d, smtp: { ...d.smtp, ...change } }), ...Object.keys(change).map((k) => `smtp.${k}`));
  const setSecret = (name: keyof EmailSecrets, value: string) => {
    setSecrets((s) => ({ ...s, [name]: value }));
    setSaved(null);
    if (name !== 'dkimPrivateKey') setTestResult(null);
    if (!errors[name]) return;
    const { [name]: _fixed, ...remaining } = errors;
    setErrors(remaining);
    if (Object.keys(remaining).length === 0) setSaveError(null);
  };

  const fieldNames = [
    'name',
    'address',
    'fromName',
    'aliases',
    'imap',
    'imapPassword',
    'smtp',
    'smtpPassword',
    'dkim',
    'dkimPrivateKey',
    'autoReply',
    'dmarcPolicy',
    'branding',
    ...draft.routing.flatMap((_, i) => [
      { name: `routing.${i}`, exact: true },
      ...['to', 'fromDomain', 'subjectContains', 'priority', 'tags'].map((p) => `routing.${i}.${p}`),
    ]),
  ].map((name) => (typeof name === 'string' ? { name } : name));

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaveError(null);
    setSaved(null);
    const { config, errors: found } = emailConfigFromDraft(draft);
    if (!draft.name.trim()) found.name = 'Give the mailbox a name.';
    const credentials = typedSecrets(secrets);
    // Credentials are replaced as a whole: a changed password without the others would lose them.
    if (current && credentials)
      for (const name of secretsInUse(draft))
        if (!secrets[name])
          found[name] =
            'Saved secrets are replaced together: enter this one again as well, or leave every secret empty to keep them.';
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setSaving(true);
    try {
      const next = current
        ? await updateIntegration(current.id, {
            name: draft.name.trim(),
            isActive: draft.isActive,
            config: mergePatchBetween(current.config, config as unknown as Record<string, unknown>),
            ...(credentials ? { credentials } : {}),
          })
        : await createIntegration({
            integrationType: 'email',
            name: draft.name.trim(),
            isActive: draft.isActive,
            config: config as unknown as Record<string, unknown>,
            ...(credentials ? { credentials } : {}),
          });
      setSaved(current ? 'Mailbox saved.' : 'Mailbox added. You can generate its inbound webhook secret below.');
      setCurrent(next);
      setDraft(readEmailDraft(next.name, next.isActive, next.config));
      setSecrets(noSecrets);
    } catch (e) {
      const details = e instanceof ApiError ? e.details : [];
      setErrors(fieldErrorsFrom(details));
      setSaveError({ message: describeError(e), details });
    } finally {
      setSaving(false);
    }
  }

  async function testConnection() {
    setTestResult(null);
    setTestError(null);
    setSaveError(null);
    setSaved(null);
    const { config, errors: found } = emailConfigFromDraft(draft);
    const numberErrors = Object.fromEntries(
      Object.entries(found).filter(([k]) => k.startsWith('imap.') || k.startsWith('smtp.')),
    );
    if (Object.keys(numberErrors).length > 0) {
      setErrors(numberErrors);
      return;
    }
    if (!config.imap && !config.smtp) {
      setTestError({ message: 'Turn on reading by IMAP or sending by SMTP to test a connection.', details: [] });
      return;
    }
    const input: MailConnectionTest = {
      ...(current ? { integrationId: current.id } : {}),
      ...(config.imap ? { imap: config.imap } : {}),
      ...(config.smtp ? { smtp: config.smtp } : {}),
      ...(config.imap && secrets.imapPassword ? { imapPassword: secrets.imapPassword } : {}),
      ...(config.smtp && secrets.smtpPassword ? { smtpPassword: secrets.smtpPassword } : {}),
    };
    setTesting(true);
    try {
      setTestResult(await testMailConnection(input));
    } catch (e) {
      const details = e instanceof ApiError ? e.details : [];
      setErrors(fieldErrorsFrom(details));
      setTestError({ message: describeError(e), details });
    } finally {
      setTesting(false);
    }
  }

  function close() {
    if (current && current !== integration) onSaved(current);
    else onCancel();
  }

  const savedHint = current?.credentialsHint
    ? `Saved (${current.credentialsHint}): leave empty to keep it.`
    : current
      ? 'None saved yet.'
      : undefined;
  const passwordField = (name: keyof EmailSecrets, hint?: string) => (
    <TextField
      id={f(name)}
      label={secretLabels[name]}
      type="password"
      autoComplete="new-password"
      value={secrets[name]}
      onChange={(v) => setSecret(name, v)}
      error={err(name)}
      hint={hint ?? savedHint}
    />
  );

  return (
    <form className="email-setup" onSubmit={(e) => void save(e)} noValidate aria-label="Email mailbox">
      <div className="form-fields">
        <fieldset className="email-section">
          <legend>Mailbox</legend>
          <div className="form-grid">
            <TextField
              id={f('name')}
              label="Name"
              value={draft.name}
              onChange={(v) => edit((d) => ({ ...d, name: v }), 'name')}
              error={err('name')}
            />
            <div className="field field-checkbox">
              <input
                id={f('active')}
                type="checkbox"
                checked={draft.isActive}
                onChange={(e) => edit((d) => ({ ...d, isActive: e.target.checked }))}
              />
              <label htmlFor={f('active')}>Active</label>
            </div>
            <TextField
              id={f('address')}
              label="Support address"
              type="email"
              inputMode="email"
              value={draft.address}
              placeholder="support@example.com"
              onChange={(v) => edit((d) => ({ ...d, address: v }), 'address')}
              error={err('address')}
              hint="Mail to it (and to its +token forms) opens and continues tickets; replies come from it."
            />
            <TextField
              id={f('fromName')}
              label="From name"
              value={draft.fromName}
              placeholder="Acme Support"
              onChange={(v) => edit((d) => ({ ...d, fromName: v }), 'fromName')}
              error={err('fromName')}
            />
            <TextField
              id={f('aliases')}
              label="Aliases"
              className="span-2"
              value={draft.aliases}
              placeholder="help@example.com, billing@example.com"
              onChange={(v) => edit((d) => ({ ...d, aliases: v }), 'aliases')}
              error={err('aliases')}
              hint="Other addresses that deliver into this mailbox, comma separated. Mail from them is never answered automatically."
            />
          </div>
        </fieldset>

        <fieldset className="email-section">
          <legend>Reading mail (IMAP)</legend>
          <div className="field field-checkbox">
            <input
              id={f('imapOn')}
              type="checkbox"
              checked={draft.imapOn}
              onChange={(e) => edit((d) => ({ ...d, imapOn: e.target.checked }), 'imap', 'imapPassword')}
            />
            <label htmlFor={f('imapOn')}>Read this mailbox over IMAP</label>
          </div>
          {!draft.imapOn && (
            <p className="hint">Without IMAP only the inbound webhook brings mail in (see below, once saved).</p>
          )}
          {draft.imapOn && (
            <div className="form-grid">
              <TextField
                id={f('imap.host')}
                label="IMAP host"
                value={draft.imap.host}
                placeholder="imap.example.com"
                onChange={(host) => setImap({ host })}
                error={err('imap.host')}
              />
              <SecuritySelect
                id={f('imap.security')}
                protocol="IMAP"
                value={draft.imap.security}
                onChange={(security) =>
                  setImap({
                    security,
                    port: portAfterSecurityChange('imap', draft.imap.port, draft.imap.security, security),
                  })
                }
              />
              <TextField
                id={f('imap.port')}
                label="IMAP port"
                inputMode="numeric"
                value={draft.imap.port}
                onChange={(port) => setImap({ port })}
                error={err('imap.port')}
              />
              <TextField
                id={f('imap.username')}
                label="IMAP user name"
                autoComplete="off"
                value={draft.imap.username}
                onChange={(username) => setImap({ username })}
                error={err('imap.username')}
              />
              {passwordField('imapPassword')}
              <TextField
                id={f('imap.mailbox')}
                label="Folder to read"
                value={draft.imap.mailbox}
                onChange={(mailbox) => setImap({ mailbox })}
                error={err('imap.mailbox')}
              />
              <fieldset className="span-2">
                <legend>After a message is filed</legend>
                <div className="field field-checkbox">
                  <input
                    id={f('imap.afterIngest.flag')}
                    type="radio"
                    name={f('imap.afterIngest')}
                    checked={draft.imap.afterIngest === 'flag'}
                    onChange={() => setImap({ afterIngest: 'flag' })}
                  />
                  <label htmlFor={f('imap.afterIngest.flag')}>Mark it as read and flag it, where it is</label>
                </div>
                <div className="field field-checkbox">
                  <input
                    id={f('imap.afterIngest.move')}
                    type="radio"
                    name={f('imap.afterIngest')}
                    checked={draft.imap.afterIngest === 'move'}
                    onChange={() => setImap({ afterIngest: 'move' })}
                  />
                  <label htmlFor={f('imap.afterIngest.move')}>Move it to another folder</label>
                </div>
              </fieldset>
              {draft.imap.afterIngest === 'move' && (
                <TextField
                  id={f('imap.moveTo')}
                  label="Move filed mail to the folder"
                  value={draft.imap.moveTo}
                  placeholder="Processed"
                  onChange={(moveTo) => setImap({ moveTo })}
                  error={err('imap.moveTo')}
                />
              )}
              <TextField
                id={f('imap.pollIntervalSeconds')}
                label="Look for new mail every (seconds)"
                inputMode="numeric"
                value={draft.imap.pollIntervalSeconds}
                onChange={(pollIntervalSeconds) => setImap({ pollIntervalSeconds })}
                error={err('imap.pollIntervalSeconds')}
                hint="Only where the server has no IDLE; with IDLE, new mail arrives at once."
              />
            </div>
          )}
        </fieldset>

        <fieldset className="email-section">
          <legend>Sending replies (SMTP)</legend>
          <div className="field field-checkbox">
            <input
              id={f('smtpOn')}
              type="checkbox"
              checked={draft.smtpOn}
              onChange={(e) => edit((d) => ({ ...d, smtpOn: e.target.checked }), 'smtp', 'smtpPassword')}
            />
            <label htmlFor={f('smtpOn')}>Send replies from tickets over SMTP</label>
          </div>
          {draft.smtpOn && (
            <div className="form-grid">
              <TextField
                id={f('smtp.host')}
                label="SMTP host"
                value={draft.smtp.host}
                placeholder="smtp.example.com"
                onChange={(host) => setSmtp({ host })}
                error={err('smtp.host')}
              />
              <SecuritySelect
                id={f('smtp.security')}
                protocol="SMTP"
                value={draft.smtp.security}
                onChange={(security) =>
                  setSmtp({
                    security,
                    port: portAfterSecurityChange('smtp', draft.smtp.port, draft.smtp.security, security),
                  })
                }
              />
              <TextField
                id={f('smtp.port')}
                label="SMTP port"
                inputMode="numeric"
                value={draft.smtp.port}
                onChange={(port) => setSmtp({ port })}
                error={err('smtp.port')}
              />
              <TextField
                id={f('smtp.username')}
                label="SMTP user name"
                autoComplete="off"
                value={draft.smtp.username}
                onChange={(username) => setSmtp({ username })}
                error={err('smtp.username')}
                hint="Leave empty for a relay that takes this deployment's mail without signing in."
              />
              {draft.smtp.username.trim() !== '' && passwordField('smtpPassword')}
            </div>
          )}
        </fieldset>

        <div className="form-actions email-test-actions">
          <button type="button" className="button-secondary" onClick={() => void testConnection()} disabled={testing}>
            {testing ? 'Testing…' : 'Test connection'}
          </button>
          <span className="hint">
            Tries the IMAP and SMTP settings above as typed, before saving.
            {current ? ' Passwords left empty are the saved ones.' : ''}
          </span>
        </div>
        <div aria-live="polite">
          {testing && (
            <p className="notice notice-loading" role="status">
              Connecting to the mail servers…
            </p>
          )}
          {testResult && <ConnectionResult result={testResult} draft={draft} />}
          {testError && <FormErrors error={testError} fields={fieldNames} />}
        </div>

        <fieldset className="email-section">
          <legend>DKIM signing</legend>
          <div className="field field-checkbox">
            <input
              id={f('dkimOn')}
              type="checkbox"
              checked={draft.dkimOn}
              onChange={(e) => edit((d) => ({ ...d, dkimOn: e.target.checked }), 'dkim', 'dkimPrivateKey')}
            />
            <label htmlFor={f('dkimOn')}>Sign outgoing mail with DKIM</label>
          </div>
          {draft.dkimOn && (
            <div className="form-grid">
              <TextField
                id={f('dkim.domain')}
                label="Signing domain"
                value={draft.dkim.domain}
                placeholder="example.com"
                onChange={(domain) => edit((d) => ({ ...d, dkim: { ...d.dkim, domain } }), 'dkim.domain')}
                error={err('dkim.domain')}
              />
              <TextField
                id={f('dkim.selector')}
                label="Selector"
                value={draft.dkim.selector}
                placeholder="switchboard"
                onChange={(selector) => edit((d) => ({ ...d, dkim: { ...d.dkim, selector } }), 'dkim.selector')}
                error={err('dkim.selector')}
                hint="The public key is published at <selector>._domainkey.<domain>."
              />
              <div className="field span-2">
                <label htmlFor={f('dkimPrivateKey')}>DKIM private key (PEM)</label>
                <textarea
                  id={f('dkimPrivateKey')}
                  className="code secret-text"
                  rows={4}
                  spellCheck={false}
                  autoComplete="off"
                  placeholder={
                    current?.credentialsHint ? 'Saved: leave empty to keep it' : '-----BEGIN PRIVATE KEY-----'
                  }
                  value={secrets.dkimPrivateKey}
                  onChange={(e) => setSecret('dkimPrivateKey', e.target.value)}
                  aria-invalid={err('dkimPrivateKey') ? true : undefined}
                  aria-describedby={`${f('dkimPrivateKey')}-hint${err('dkimPrivateKey') ? ` ${f('dkimPrivateKey')}-error` : ''}`}
                />
                <span id={`${f('dkimPrivateKey')}-hint`} className="hint">
                  Stored encrypted and never shown again.
                </span>
                <FieldError id={`${f('dkimPrivateKey')}-error`} message={err('dkimPrivateKey')} />
              </div>
            </div>
          )}
        </fieldset>

        <fieldset className="email-section">
          <legend>Acknowledgement of new tickets</legend>
          <div className="field field-checkbox">
            <input
              id={f('autoReply.enabled')}
              type="checkbox"
              checked={draft.autoReply.enabled}
              onChange={(e) => edit((d) => ({ ...d, autoReply: { ...d.autoReply, enabled: e.target.checked } }))}
            />
            <label htmlFor={f('autoReply.enabled')}>Answer a new ticket's sender automatically</label>
          </div>
          {draft.autoReply.enabled && (
            <>
              <p className="hint">
                Never sent to automated mail (Auto-Submitted, bulk and list mail, mailer-daemon, no-reply senders) or to
                this mailbox's own addresses, so acknowledgements cannot loop.
              </p>
              <div className="form-grid">
                <TextField
                  id={f('autoReply.subject')}
                  label="Subject"
                  value={draft.autoReply.subject}
                  onChange={(subject) =>
                    edit((d) => ({ ...d, autoReply: { ...d.autoReply, subject } }), 'autoReply.subject')
                  }
                  error={err('autoReply.subject')}
                />
                <TextField
                  id={f('autoReply.windowHours')}
                  label="At most once per sender every (hours)"
                  inputMode="numeric"
                  value={draft.autoReply.windowHours}
                  onChange={(windowHours) =>
                    edit((d) => ({ ...d, autoReply: { ...d.autoReply, windowHours } }), 'autoReply.windowHours')
                  }
                  error={err('autoReply.windowHours')}
                />
                <div className="field span-2">
                  <label htmlFor={f('autoReply.body')}>Text</label>
                  <textarea
                    id={f('autoReply.body')}
                    rows={4}
                    value={draft.autoReply.body}
                    onChange={(e) =>
                      edit((d) => ({ ...d, autoReply: { ...d.autoReply, body: e.target.value } }), 'autoReply.body')
                    }
                    aria-invalid={err('autoReply.body') ? true : undefined}
                    aria-describedby={err('autoReply.body') ? `${f('autoReply.body')}-error` : undefined}
                  />
                  <FieldError id={`${f('autoReply.body')}-error`} message={err('autoReply.body')} />
                </div>
              </div>
            </>
          )}
        </fieldset>

        <fieldset className="email-section" aria-describedby={`${f('dmarcPolicy')}-hint`}>
          <legend>Mail that fails DMARC</legend>
          <p id={`${f('dmarcPolicy')}-hint`} className="hint">
            DMARC failing means the sender's domain does not vouch for the message: it may be forged.
          </p>
          {(Object.keys(dmarcLabels) as DmarcPolicy[]).map((policy) => (
            <div key={policy} className="field field-checkbox">
              <input
                id={f(`dmarcPolicy.${policy}`)}
                type="radio"
                name={f('dmarcPolicy')}
                checked={draft.dmarcPolicy === policy}
                onChange={() => edit((d) => ({ ...d, dmarcPolicy: policy }), 'dmarcPolicy')}
              />
              <label htmlFor={f(`dmarcPolicy.${policy}`)}>
                {dmarcLabels[policy].label} <span className="muted">— {dmarcLabels[policy].hint}</span>
              </label>
            </div>
          ))}
          <FieldError id={`${f('dmarcPolicy')}-error`} message={err('dmarcPolicy')} />
        </fieldset>

        <fieldset className="email-section">
          <legend>Routing rules</legend>
          <p className="hint">
            The first rule whose conditions all match sets the new ticket's priority and adds its tags.
          </p>
          {draft.routing.length === 0 && <p className="muted">No rules: new tickets get the default priority.</p>}
          <ol className="email-rules">
            {draft.routing.map((rule, index) => {
              const ruleError = err(`routing.${index}`, true);
              const setRule = (change: Partial<typeof rule>) =>
                edit(
                  (d) => ({ ...d, routing: d.routing.map((r) => (r.key === rule.key ? { ...r, ...change } : r)) }),
                  `routing.${index}`,
                );
              const rf = (name: string) => f(`rule-${rule.key}-${name}`);
              return (
                <li key={rule.key}>
                  <fieldset
                    className="email-rule"
                    aria-invalid={ruleError ? true : undefined}
                    aria-describedby={ruleError ? `${rf('error')}` : undefined}
                  >
                    <legend>Rule {index + 1}</legend>
                    <div className="email-rule-grid">
                      <TextField
                        id={rf('to')}
                        label="Sent to"
                        value={rule.to}
                        placeholder="billing@example.com"
                        onChange={(to) => setRule({ to })}
                        error={err(`routing.${index}.to`)}
                      />
                      <TextField
                        id={rf('fromDomain')}
                        label="Sender's domain"
                        value={rule.fromDomain}
                        placeholder="bigcustomer.com"
                        onChange={(fromDomain) => setRule({ fromDomain })}
                        error={err(`routing.${index}.fromDomain`)}
                      />
                      <TextField
                        id={rf('subjectContains')}
                        label="Subject contains"
                        value={rule.subjectContains}
                        placeholder="outage"
                        onChange={(subjectContains) => setRule({ subjectContains })}
                        error={err(`routing.${index}.subjectContains`)}
                      />
                      <div className="field">
                        <label htmlFor={rf('priority')}>Then set the priority to</label>
                        <select
                          id={rf('priority')}
                          value={rule.priority}
                          onChange={(e) => setRule({ priority: e.target.value as TicketPriority | '' })}
                        >
                          <option value="">(leave as it is)</option>
                          {ticketPriorities.map((p) => (
                            <option key={p} value={p}>
                              {humanize(p)}
                            </option>
                          ))}
                        </select>
                        <FieldError id={`${rf('priority')}-error`} message={err(`routing.${index}.priority`)} />
                      </div>
                      <TextField
                        id={rf('tags')}
                        label="And add the tags"
                        value={rule.tags}
                        placeholder="billing, vip"
                        onChange={(tags) => setRule({ tags })}
                        error={err(`routing.${index}.tags`)}
                      />
                    </div>
                    <FieldError id={rf('error')} message={ruleError} />
                    <button
                      type="button"
                      className="button-secondary"
                      onClick={() => edit((d) => ({ ...d, routing: d.routing.filter((r) => r.key !== rule.key) }))}
                    >
                      Remove rule {index + 1}
                    </button>
                  </fieldset>
                </li>
              );
            })}
          </ol>
          {draft.routing.length < 50 && (
            <button
              type="button"
              className="button-secondary"
              onClick={() => edit((d) => ({ ...d, routing: [...d.routing, emptyRuleDraft(nextRuleKey.current++)] }))}
            >
              Add rule
            </button>
          )}
        </fieldset>

        <fieldset className="email-section">
          <legend>Branding of outgoing mail</legend>
          <div className="form-grid">
            <TextField
              id={f('branding.name')}
              label="Name in the header"
              value={draft.branding.name}
              placeholder={draft.fromName || 'Acme Support'}
              onChange={(name) => edit((d) => ({ ...d, branding: { ...d.branding, name } }), 'branding.name')}
              error={err('branding.name')}
            />
            <div className="field">
              <label htmlFor={f('branding.accentColor')}>Accent colour</label>
              <div className="email-colour">
                <input
                  id={f('branding.accentColor')}
                  value={draft.branding.accentColor}
                  placeholder="#2f5bd3"
                  onChange={(e) =>
                    edit(
                      (d) => ({ ...d, branding: { ...d.branding, accentColor: e.target.value } }),
                      'branding.accentColor',
                    )
                  }
                  aria-invalid={err('branding.accentColor') ? true : undefined}
                  aria-describedby={err('branding.accentColor') ? `${f('branding.accentColor')}-error` : undefined}
                />
                <input
                  type="color"
                  aria-label="Pick the accent colour"
                  value={/^#[0-9a-fA-F]{6}$/.test(draft.branding.accentColor) ? draft.branding.accentColor : '#2f5bd3'}
                  onChange={(e) =>
                    edit(
                      (d) => ({ ...d, branding: { ...d.branding, accentColor: e.target.value } }),
                      'branding.accentColor',
                    )
                  }
                />
              </div>
              <FieldError id={`${f('branding.accentColor')}-error`} message={err('branding.accentColor')} />
            </div>
            <div className="field span-2">
              <label htmlFor={f('branding.footer')}>Footer</label>
              <textarea
                id={f('branding.footer')}
                rows={2}
                value={draft.branding.footer}
                placeholder="Acme Ltd · 1 Main Street · Springfield"
                onChange={(e) =>
                  edit((d) => ({ ...d, branding: { ...d.branding, footer: e.target.value } }), 'branding.footer')
                }
                aria-invalid={err('branding.footer') ? true : undefined}
                aria-describedby={err('branding.footer') ? `${f('branding.footer')}-error` : undefined}
              />
              <FieldError id={`${f('branding.footer')}-error`} message={err('branding.footer')} />
            </div>
          </div>
        </fieldset>

        {current && <InboundWebhook integration={current} />}

        <div className="form-errors" aria-live="polite">
          {saveError && <FormErrors error={saveError} fields={fieldNames} />}
          {saved && <SuccessNotice message={saved} />}
        </div>
        <div className="form-actions">
          <button type="submit" disabled={saving}>
            {saving ? 'Saving…' : current ? 'Save mailbox' : 'Add mailbox'}
          </button>
          <button type="button" className="button-secondary" onClick={close}>
            {current && current !== integration ? 'Close' : 'Cancel'}
          </button>
        </div>
      </div>
    </form>
  );
}
