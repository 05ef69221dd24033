// Email in the dashboard, the parts without a screen: the setup form's draft (strings, as inputs hold them) read from
// and turned back into the mailbox config the API validates (domain/email/config.ts), the API's error paths as the
// form's field names, address lists, what an authentication verdict looks like, the document a sandboxed frame shows
// an email's HTML in, and the addresses the composer accepts as links.
import type {
  DmarcPolicy,
  EmailAuthResults,
  EmailConfig,
  EmailRoutingRule,
  ErrorDetail,
  MailSecurity,
  TicketPriority,
} from './api.ts';
import { parseTags } from './format.ts';

/** The acknowledgement's text when the admin has not written one (the server's own default). */
export const DEFAULT_AUTO_REPLY = {
  subject: 'We received your request',
  body: 'Thank you for contacting us. Your request has been received and we will get back to you soon.',
};

/** The usual port for each way of securing the connection, so changing one offers the other. */
const defaultPorts = {
  imap: { tls: 993, starttls: 143, none: 143 },
  smtp: { tls: 465, starttls: 587, none: 25 },
} as const;

export function defaultPortFor(protocol: 'imap' | 'smtp', security: MailSecurity): number {
  return defaultPorts[protocol][security];
}

/**
 * The port after the security changed: the new security's usual port where the old one was the old security's
 * usual port (the admin had not chosen one), the admin's own port otherwise.
 */
export function portAfterSecurityChange(
  protocol: 'imap' | 'smtp',
  port: string,
  from: MailSecurity,
  to: MailSecurity,
): string {
  return port.trim() === '' || Number(port) === defaultPortFor(protocol, from)
    ? String(defaultPortFor(protocol, to))
    : port;
}

export type RoutingRuleDraft = {
  key: number;
  to: string;
  fromDomain: string;
  subjectContains: string;
  priority: TicketPriority | '';
  tags: string;
};

export type EmailDraft = {
  name: string;
  isActive: boolean;
  address: string;
  fromName: string;
  aliases: string;
  imapOn: boolean;
  imap: {
    host: string;
    port: string;
    security: MailSecurity;
    username: string;
    mailbox: string;
    afterIngest: 'flag' | 'move';
    moveTo: string;
    pollIntervalSeconds: string;
  };
  smtpOn: boolean;
  smtp: { host: string; port: string; security: MailSecurity; username: string };
  dkimOn: boolean;
  dkim: { domain: string; selector: string };
  autoReply: { enabled: boolean; subject: string; body: string; windowHours: string };
  dmarcPolicy: DmarcPolicy;
  routing: RoutingRuleDraft[];
  branding: { name: string; accentColor: string; footer: string };
};

/** The secrets a mailbox may have; the API never gives them back, so the form starts them empty. */
export type EmailSecrets = { imapPassword: string; smtpPassword: string; dkimPrivateKey: string };
export const noSecrets: EmailSecrets = { imapPassword: '', smtpPassword: '', dkimPrivateKey: '' };

function ruleDraft(rule: Partial<EmailRoutingRule>, key: number): RoutingRuleDraft {
  return {
    key,
    to: rule.to ?? '',
    fromDomain: rule.fromDomain ?? '',
    subjectContains: rule.subjectContains ?? '',
    priority: rule.priority ?? '',
    tags: (rule.tags ?? []).join(', '),
  };
}

export function emptyRuleDraft(key: number): RoutingRuleDraft {
  return ruleDraft({}, key);
}

/** The form's draft of a stored config (or of nothing yet: a new mailbox, with the schema's defaults). */
export function readEmailDraft(name: string, isActive: boolean, raw: Record<string, unknown> | undefined): EmailDraft {
  const c = (raw ?? {}) as Partial<EmailConfig>;
  const imap = c.imap ?? null;
  const smtp = c.smtp ?? null;
  return {
    name,
    isActive,
    address: c.address ?? '',
    fromName: c.fromName ?? '',
    aliases: (c.aliases ?? []).join(', '),
    imapOn: imap !== null,
    imap: {
      host: imap?.host ?? '',
      port: String(imap?.port ?? defaultPortFor('imap', imap?.security ?? 'tls')),
      security: imap?.security ?? 'tls',
      username: imap?.username ?? '',
      mailbox: imap?.mailbox ?? 'INBOX',
      afterIngest: imap?.afterIngest ?? 'flag',
      moveTo: imap?.moveTo ?? '',
      pollIntervalSeconds: String(imap?.pollIntervalSeconds ?? 60),
    },
    // A new mailbox most often sends too; an existing one without SMTP stays without it.
    smtpOn: raw === undefined ? true : smtp !== null,
    smtp: {
      host: smtp?.host ?? '',
      port: String(smtp?.port ?? defaultPortFor('smtp', smtp?.security ?? 'starttls')),
      security: smtp?.security ?? 'starttls',
      username: smtp?.username ?? '',
    },
    dkimOn: (c.dkim ?? null) !== null,
    dkim: { domain: c.dkim?.domain ?? '', selector: c.dkim?.selector ?? '' },
    autoReply: {
      enabled: c.autoReply?.enabled ?? false,
      // The stored default may have an empty text, which the API would refuse back.
      subject: c.autoReply?.subject || DEFAULT_AUTO_REPLY.subject,
      body: c.autoReply?.body || DEFAULT_AUTO_REPLY.body,
      windowHours: String(c.autoReply?.windowHours ?? 24),
    },
    dmarcPolicy: c.dmarcPolicy ?? 'flag',
    routing: (c.routing ?? []).map(ruleDraft),
    branding: {
      name: c.branding?.name ?? '',
      accentColor: c.branding?.accentColor ?? '',
      footer: c.branding?.footer ?? '',
    },
  };
}

/** "a@x.test, b@x.test; c@x.test" → the three addresses. */
export function parseAddressList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .map((a) => a.trim())
        .filter(Boolean),
    ),
  ];
}

/** The form's errors by field name (the API's paths without `body.` and `config.`). */
export type FieldErrors = Record<string, string>;

function wholeNumber(text: string, errors: FieldErrors, field: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(value)) {
    errors[field] = 'Enter a whole number.';
    return Number.NaN;
  }
  return value;
}

/**
 * The config as the form holds it. Only what the API cannot say is checked here (a port that is not a number would
 * arrive as null); everything else goes to the API, whose answer names each field.
 */
export function emailConfigFromDraft(draft: EmailDraft): { config: EmailConfig; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const optional = <K extends string>(key: K, value: string) =>
    (value.trim() ? { [key]: value.trim() } : {}) as Partial<Record<K, string>>;
  const imap = draft.imapOn
    ? {
        host: draft.imap.host.trim(),
        port: wholeNumber(draft.imap.port, errors, 'imap.port'),
        security: draft.imap.security,
        username: draft.imap.username.trim(),
        mailbox: draft.imap.mailbox.trim() || 'INBOX',
        afterIngest: draft.imap.afterIngest,
        ...(draft.imap.afterIngest === 'move' ? optional('moveTo', draft.imap.moveTo) : {}),
        pollIntervalSeconds: wholeNumber(draft.imap.pollIntervalSeconds, errors, 'imap.pollIntervalSeconds'),
      }
    : null;
  const smtp = draft.smtpOn
    ? {
        host: draft.smtp.host.trim(),
        port: wholeNumber(draft.smtp.port, errors, 'smtp.port'),
        security: draft.smtp.security,
        ...optional('username', draft.smtp.username),
      }
    : null;
  const config: EmailConfig = {
    address: draft.address.trim(),
    ...optional('fromName', draft.fromName),
    aliases: parseAddressList(draft.aliases),
    imap,
    smtp,
    dkim: draft.dkimOn ? { domain: draft.dkim.domain.trim(), selector: draft.dkim.selector.trim() } : null,
    autoReply: {
      enabled: draft.autoReply.enabled,
      subject: draft.autoReply.subject.trim(),
      body: draft.autoReply.body.trim(),
      windowHours: wholeNumber(draft.autoReply.windowHours, errors, 'autoReply.windowHours'),
    },
    dmarcPolicy: draft.dmarcPolicy,
    // Every rule the form shows is sent, in order, so an error's index names the rule on screen.
    routing: draft.routing.map((rule) => {
      const tags = parseTags(rule.tags);
      return {
        ...optional('to', rule.to),
        ...optional('fromDomain', rule.fromDomain),
        ...optional('subjectContains', rule.subjectContains),
        ...(rule.priority ? { priority: rule.priority } : {}),
        ...(tags.length > 0 ? { tags } : {}),
      };
    }),
    branding: {
      ...optional('name', draft.branding.name),
      ...optional('accentColor', draft.branding.accentColor),
      ...optional('footer', draft.branding.footer),
    },
  };
  return { config, errors };
}

/**
 * Which secrets the config uses: the API replaces a mailbox's credentials as a whole, so changing one of them means
 * giving the others again (or they are gone).
 */
export function secretsInUse(draft: EmailDraft): (keyof EmailSecrets)[] {
  return [
    ...(draft.imapOn ? (['imapPassword'] as const) : []),
    ...(draft.smtpOn && draft.smtp.username.trim() ? (['smtpPassword'] as const) : []),
    ...(draft.dkimOn ? (['dkimPrivateKey'] as const) : []),
  ];
}

/** The secrets typed in the form, as the credentials to send (none typed: nothing to send). */
export function typedSecrets(secrets: EmailSecrets): Partial<EmailSecrets> | null {
  const typed = Object.fromEntries(
    Object.entries(secrets).filter(([, value]) => value !== ''),
  ) as Partial<EmailSecrets>;
  return Object.keys(typed).length > 0 ? typed : null;
}

/**
 * "body.config.imap.host" → "imap.host", "body.credentials.smtpPassword" → "smtpPassword", "body.to.1" → "to.1": the
 * API's paths as the names of the form's fields.
 */
export function fieldName(path: string): string {
  return path.replace(/^(body|query|params)\./, '').replace(/^(config|credentials)\./, '');
}

export function fieldErrorsFrom(details: ErrorDetail[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const detail of details) {
    const name = fieldName(detail.path);
    errors[name] = errors[name] ? `${errors[name]} ${detail.message}` : detail.message;
  }
  return errors;
}

/** The error of a field: its own, or one of its parts' ("aliases.2", "tags.0"), with the part's number. */
export function errorOf(errors: FieldErrors, field: string, exact = false): string | undefined {
  if (errors[field]) return errors[field];
  if (exact) return undefined;
  const parts = Object.entries(errors).filter(([name]) => name.startsWith(`${field}.`));
  if (parts.length === 0) return undefined;
  return parts
    .map(([name, message]) => {
      const index = Number(name.slice(field.length + 1).split('.')[0]);
      return Number.isInteger(index) ? `Entry ${index + 1}: ${message}` : message;
    })
    .join(' ');
}

/** The errors no field of the form shows (the form lists them together). */
export function unclaimedErrors(errors: FieldErrors, fields: { name: string; exact?: boolean }[]): ErrorDetail[] {
  return Object.entries(errors)
    .filter(([name]) => !fields.some((f) => name === f.name || (!f.exact && name.startsWith(`${f.name}.`))))
    .map(([path, message]) => ({ path, message }));
}

/** How a verdict looks: pass is good, fail is bad, the rest (none, neutral, temperror…) says nothing either way. */
export function verdictTone(verdict: string): 'pass' | 'fail' | 'neutral' {
  const v = verdict.toLowerCase();
  if (v === 'pass') return 'pass';
  if (v === 'fail' || v === 'softfail' || v === 'permerror' || v === 'policy') return 'fail';
  return 'neutral';
}

/** The verdicts an email shows, in the order people read them (ARC only where the message carried it). */
export function verdictsOf(auth: EmailAuthResults): { name: string; verdict: string; detail: string | null }[] {
  return [
    { name: 'DKIM', verdict: auth.dkim, detail: auth.dkimDomains.length ? auth.dkimDomains.join(', ') : null },
    { name: 'SPF', verdict: auth.spf, detail: auth.spfDomain },
    { name: 'DMARC', verdict: auth.dmarc, detail: auth.dmarcPolicy ? `policy ${auth.dmarcPolicy}` : null },
    ...(auth.arc ? [{ name: 'ARC', verdict: auth.arc, detail: null }] : []),
  ];
}

const SANDBOX_HEAD =
  '<meta charset="utf-8">' +
  `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:">` +
  '<base target="_blank">';

/**
 * The document a sandboxed frame shows: the email's HTML (a fragment, or a whole document like our own template's)
 * under a policy that loads nothing from anywhere (inline styles and embedded images only), with links that would
 * open a new window, which the sandbox does not allow.
 */
export function sandboxedDocument(html: string): string {
  // A whole document (our own template) gets the policy first thing in its head; nothing can come before it.
  const start = /^\s*(?:<!doctype[^>]*>\s*)?<html[^>]*>\s*<head(?:\s[^>]*)?>/i.exec(html);
  if (start) return start[0] + SANDBOX_HEAD + html.slice(start[0].length);
  return (
    `<!doctype html><html><head>${SANDBOX_HEAD}` +
    '<style>body{font:15px/1.5 system-ui,sans-serif;color:#1d2330;margin:0.5rem;overflow-wrap:anywhere}img{max-width:100%}</style>' +
    `</head><body>${html}</body></html>`
  );
}

/** What a person types as a link: a web or mail address (a bare domain gets https://). Null for anything else. */
export function linkAddress(text: string): string | null {
  const value = text.trim();
  if (!value) return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(value)
    ? value
    : value.includes('@')
      ? `mailto:${value}`
      : `https://${value}`;
  try {
    const url = new URL(withScheme);
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}
