// Slack: "Add to Slack" (the server's OAuth v2 start, then Slack's consent page, then back here with ?slack=…), each
// workspace's state (connected, or disconnected with Slack's reason and since when, and the tickets whose messages
// wait for it), the installation's channel rules (which channel gets which kinds of message for which tickets, the
// channel picked from the workspace's own list) with a test message per rule's channel and a preview of the message
// of the rule being edited, and the signed-in person's own DM choices. The rules are the installation's config,
// saved with PATCH /api/integrations/{id} as the merge patch from the stored config; the API's per-field errors are
// shown under their fields.

import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import {
  ApiError,
  describeError,
  type ErrorDetail,
  getSlackPreferences,
  type Integration,
  listSlackChannels,
  listSlackInstallations,
  type SlackChannel,
  type SlackInstallation,
  type SlackMessageKind,
  type SlackPreferences,
  type SlackTestMessageResult,
  sendSlackTestMessage,
  setSlackPreferences,
  slackInstallUrl,
  type TicketChannel,
  type TicketPriority,
  type TicketStatus,
  ticketPriorities,
  ticketStatuses,
  updateIntegration,
} from '../../api.ts';
import { errorOf, type FieldErrors, fieldErrorsFrom, unclaimedErrors } from '../../email.ts';
import { formatTime, humanize } from '../../format.ts';
import { useMembers } from '../../members.ts';
import { mergePatchBetween } from '../../merge-patch.ts';
import {
  describeConditions,
  emptySlackRuleDraft,
  readSlackConfig,
  type SlackRuleDraft,
  slackConfigFromDrafts,
  slackKindLabels,
  slackMessageKinds,
  slackRuleDraft,
  slackRuleFromDraft,
  ticketChannelLabels,
  ticketChannels,
} from '../../slack.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, FieldError, Loading, SuccessNotice } from '../Notices.tsx';
import { TextField } from '../TextField.tsx';
import { SlackNotificationPreview } from './SlackNotificationPreview.tsx';
import type { IntegrationSetupProps } from './setupComponents.ts';

/** The query parameters the OAuth callback redirects back with. */
const SLACK_RETURN_PARAMS = ['slack', 'integration', 'reason'] as const;

/** Why Slack stopped taking the installation's token, in words (the code is shown too). */
const disconnectReasons: Record<string, string> = {
  app_uninstalled: 'Switchboard was removed from the workspace',
  tokens_revoked: 'the workspace revoked Switchboard’s token',
  invalid_auth: 'Slack no longer accepts Switchboard’s token',
  token_revoked: 'the workspace revoked Switchboard’s token',
  account_inactive: 'the workspace was deactivated',
  team_disabled: 'the workspace was disabled',
};

/** Why an install did not finish (the callback's ?reason=), in words. */
const installErrors: Record<string, string> = {
  access_denied: 'the request was cancelled on Slack’s page',
  invalid_state: 'the install link was unknown, used or expired: start again',
  workspace_taken: 'this workspace is already connected to another Switchboard organisation',
};

const statusLabel = (s: string) => {
  const text = humanize(s);
  return text.charAt(0).toUpperCase() + text.slice(1);
};

type SaveError = { message: string; details: ErrorDetail[] };

function saveErrorFrom(e: unknown): SaveError {
  return { message: describeError(e), details: e instanceof ApiError ? e.details : [] };
}

// ---- Add to Slack ----

function AddToSlack({ again }: { again: boolean }) {
  const [redirecting, setRedirecting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function start() {
    setError(null);
    setRedirecting(true);
    try {
      const { authorizeUrl } = await slackInstallUrl();
      window.location.assign(authorizeUrl);
    } catch (e) {
      setError(describeError(e));
      setRedirecting(false);
    }
  }

  return (
    <div className="slack-connect">
      <div className="form-actions">
        <button type="button" className="slack-add-button" onClick={() => void start()} disabled={redirecting}>
          {redirecting ? 'Opening Slack…' : 'Add to Slack'}
        </button>
      </div>
      <p className="hint">
        {again
          ? 'Adding Switchboard to this workspace again reconnects it (its rules are kept); adding it to another workspace connects that one too.'
          : 'Slack asks you to allow Switchboard to post in channels, read the channels it is in, answer slash commands and send DMs.'}
      </p>
      {error && <ErrorNotice message={error} />}
    </div>
  );
}

// ---- A workspace's state ----

function WorkspaceStatus({ installation }: { installation: SlackInstallation }) {
  const reason = installation.disconnectedReason;
  return (
    <div className="slack-workspace" data-connected={installation.connected}>
      <div className="integration-summary">
        <h4>{installation.teamName}</h4>
        <span className={`badge ${installation.connected ? 'badge-active' : 'badge-inactive'}`}>
          {installation.connected ? 'Connected' : 'Disconnected'}
        </span>
        {!installation.isActive && <span className="badge badge-inactive">Disabled</span>}
      </div>
      {installation.connected ? (
        <p className="muted">
          Workspace {installation.teamId} · bot user {installation.botUserId}
        </p>
      ) : (
        <p className="notice notice-error">
          Disconnected since {formatTime(installation.disconnectedAt)}:{' '}
          {(reason && disconnectReasons[reason]) ?? 'Slack stopped accepting the installation'}
          {reason ? ` (${reason})` : ''}. Add to Slack again to reconnect; the rules are kept.
        </p>
      )}
      {installation.paused.tickets > 0 && (
        <p className="notice notice-warning">
          {installation.paused.tickets === 1
            ? '1 ticket’s Slack messages wait'
            : `${installation.paused.tickets} tickets’ Slack messages wait`}
          {installation.paused.since ? ` since ${formatTime(installation.paused.since)}` : ''}: they are sent once the
          workspace is {installation.connected ? 'enabled' : 'connected'} again.
        </p>
      )}
      {!installation.isActive && installation.connected && (
        <p className="hint">This installation is disabled: nothing is posted until it is enabled again.</p>
      )}
    </div>
  );
}

// ---- One rule ----

type TestState = { sending: boolean; result: SlackTestMessageResult | null; error: string | null; channel: string };

function Checkboxes<T extends string>({
  id,
  legend,
  options,
  chosen,
  labelOf,
  hintOf,
  error,
  onChange,
}: {
  id: string;
  legend: string;
  options: readonly T[];
  chosen: readonly T[];
  labelOf: (value: T) => string;
  hintOf?: (value: T) => string;
  error: string | undefined;
  onChange: (chosen: T[]) => void;
}) {
  return (
    <fieldset
      className="slack-choices"
      aria-invalid={error ? true : undefined}
      aria-describedby={error ? `${id}-error` : undefined}
    >
      <legend>{legend}</legend>
      {options.map((value) => (
        <div key={value} className="field field-checkbox">
          <input
            id={`${id}-${value}`}
            type="checkbox"
            checked={chosen.includes(value)}
            onChange={(e) =>
              onChange(
                e.target.checked
                  ? // Kept in the list's order; a chosen value the list no longer offers (a member who left) stays.
                    [
                      ...chosen.filter((c) => !options.includes(c)),
                      ...options.filter((o) => o === value || chosen.includes(o)),
                    ]
                  : chosen.filter((c) => c !== value),
              )
            }
          />
          <label htmlFor={`${id}-${value}`}>
            {labelOf(value)}
            {hintOf && <span className="muted"> · {hintOf(value)}</span>}
          </label>
        </div>
      ))}
      <FieldError id={`${id}-error`} message={error} />
    </fieldset>
  );
}

function channelHint(channel: SlackChannel | undefined): string {
  // Slack lists a private channel to the bot only once it is in it.
  if (!channel) return 'A private channel is listed once Switchboard is invited to it (/invite @Switchboard).';
  if (channel.isMember) return `Switchboard is in #${channel.name}.`;
  return `Switchboard joins #${channel.name} when it first posts there.`;
}

function RuleEditor({
  draft,
  channels,
  listing,
  members,
  err,
  onChange,
}: {
  draft: SlackRuleDraft;
  channels: SlackChannel[] | undefined;
  /** Whether the workspace's list was read (it cannot be while the workspace is disconnected). */
  listing: 'listed' | 'loading' | 'unavailable';
  members: { id: string; name: string }[];
  err: (field: string) => string | undefined;
  onChange: (change: Partial<SlackRuleDraft>, ...fields: string[]) => void;
}) {
  const id = useId();
  const known = channels?.find((c) => c.id === draft.channelId);
  const channelError = err('channelId');
  const hint =
    listing === 'listed'
      ? channelHint(known)
      : listing === 'loading'
        ? 'Loading the workspace’s channels…'
        : 'The workspace’s channels are listed here once it is connected.';
  return (
    <div className="slack-rule-editor">
      <div className="slack-rule-grid">
        <TextField
          id={`${id}-name`}
          label="Rule name"
          value={draft.name}
          placeholder="Billing questions"
          onChange={(name) => onChange({ name }, 'name')}
          error={err('name')}
        />
        <div className="field">
          <label htmlFor={`${id}-channel`}>Channel</label>
          <select
            id={`${id}-channel`}
            value={draft.channelId}
            onChange={(e) => {
              const channel = channels?.find((c) => c.id === e.target.value);
              onChange({ channelId: e.target.value, channelName: channel?.name ?? '' }, 'channelId', 'channelName');
            }}
            aria-invalid={channelError ? true : undefined}
            aria-describedby={`${id}-channel-hint${channelError ? ` ${id}-channel-error` : ''}`}
          >
            <option value="">Choose a channel…</option>
            {draft.channelId && !known && (
              <option value={draft.channelId}>
                #{draft.channelName || draft.channelId}
                {listing === 'listed' ? ' (not in the workspace’s list)' : ''}
              </option>
            )}
            {(channels ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.isPrivate ? '🔒 ' : '#'}
                {c.name}
              </option>
            ))}
          </select>
          <span id={`${id}-channel-hint`} className="hint">
            {hint}
          </span>
          <FieldError id={`${id}-channel-error`} message={channelError} />
        </div>
      </div>
      <Checkboxes
        id={`${id}-kinds`}
        legend="Post"
        options={slackMessageKinds}
        chosen={draft.kinds}
        labelOf={(k) => slackKindLabels[k].label}
        hintOf={(k) => slackKindLabels[k].hint}
        error={err('kinds')}
        onChange={(kinds: SlackMessageKind[]) => onChange({ kinds }, 'kinds')}
      />
      <fieldset className="slack-conditions">
        <legend>For tickets (every condition given must hold; leave one empty for any)</legend>
        <div className="slack-rule-grid">
          <Checkboxes
            id={`${id}-priorities`}
            legend="Priority"
            options={ticketPriorities}
            chosen={draft.priorities}
            labelOf={statusLabel}
            error={err('priorities')}
            onChange={(priorities: TicketPriority[]) => onChange({ priorities }, 'priorities')}
          />
          <Checkboxes
            id={`${id}-statuses`}
            legend="Status"
            options={ticketStatuses}
            chosen={draft.statuses}
            labelOf={statusLabel}
            error={err('statuses')}
            onChange={(statuses: TicketStatus[]) => onChange({ statuses }, 'statuses')}
          />
          <Checkboxes
            id={`${id}-ticketChannels`}
            legend="Came in by"
            options={ticketChannels}
            chosen={draft.ticketChannels}
            labelOf={(c) => ticketChannelLabels[c]}
            error={err('ticketChannels')}
            onChange={(chosen: TicketChannel[]) => onChange({ ticketChannels: chosen }, 'ticketChannels')}
          />
          <Checkboxes
            id={`${id}-assignees`}
            legend="Assigned to"
            options={['unassigned', ...members.map((m) => m.id)]}
            chosen={draft.assignees}
            labelOf={(a) => (a === 'unassigned' ? 'Nobody (unassigned)' : (members.find((m) => m.id === a)?.name ?? a))}
            error={err('assignees')}
            onChange={(assignees) => onChange({ assignees }, 'assignees')}
          />
        </div>
        <div className="slack-rule-grid">
          <TextField
            id={`${id}-tags`}
            label="Tagged with any of"
            value={draft.tags}
            placeholder="billing, vip"
            onChange={(tags) => onChange({ tags }, 'tags')}
            error={err('tags')}
          />
          <TextField
            id={`${id}-domains`}
            label="Requester’s email domain, any of"
            value={draft.requesterDomains}
            placeholder="customer.com, partner.org"
            onChange={(requesterDomains) => onChange({ requesterDomains }, 'requesterDomains')}
            error={err('requesterDomains')}
          />
        </div>
      </fieldset>
      <SlackNotificationPreview rule={slackRuleFromDraft(draft)} />
    </div>
  );
}

// ---- The rules ----

function RulesForm({
  integration,
  installation,
  onChanged,
}: {
  integration: Integration;
  installation: SlackInstallation | undefined;
  onChanged: (saved: Integration) => void;
}) {
  const id = useId();
  const [current, setCurrent] = useState(integration);
  const stored = readSlackConfig(integration.config);
  const [drafts, setDrafts] = useState<SlackRuleDraft[]>(() => stored.rules.map((r, i) => slackRuleDraft(r, i)));
  const [prefix, setPrefix] = useState(stored.publicReplyPrefix ?? '');
  const nextKey = useRef(drafts.length);
  const [editing, setEditing] = useState<number | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saveError, setSaveError] = useState<SaveError | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [tests, setTests] = useState<Record<number, TestState>>({});
  const members = useMembers();
  const connected = installation?.connected ?? false;
  // A disconnected workspace has no list to give (null); the stored channels are still shown by name.
  const channels = useLoader(`slack-channels:${integration.id}:${installation?.connected ?? 'unknown'}`, async () =>
    connected ? (await listSlackChannels(integration.id)).data : null,
  );
  const people = (members.data ?? [])
    .filter((m) => m.role !== 'viewer')
    .map((m) => ({ id: m.userId, name: m.name || m.email }));
  const nameOf = (userId: string) => people.find((p) => p.id === userId)?.name ?? 'someone';
  const channelName = (draft: SlackRuleDraft) =>
    channels.data?.find((c) => c.id === draft.channelId)?.name ?? (draft.channelName || draft.channelId);

  function edit(key: number, index: number, change: Partial<SlackRuleDraft>, ...fields: string[]) {
    setDrafts((ds) => ds.map((d) => (d.key === key ? { ...d, ...change } : d)));
    setSaved(null);
    const touched = fields.map((f) => `rules.${index}.${f}`);
    const remaining = Object.fromEntries(
      Object.entries(errors).filter(
        ([k]) => k !== `rules.${index}` && !touched.some((t) => k === t || k.startsWith(`${t}.`)),
      ),
    );
    if (Object.keys(remaining).length === Object.keys(errors).length) return;
    setErrors(remaining);
    if (Object.keys(remaining).length === 0) setSaveError(null);
  }

  function addRule() {
    const draft = emptySlackRuleDraft(nextKey.current++);
    setDrafts((ds) => [...ds, draft]);
    setEditing(draft.key);
    setSaved(null);
  }

  function removeRule(key: number) {
    setDrafts((ds) => ds.filter((d) => d.key !== key));
    if (editing === key) setEditing(null);
    // The API's errors named rules by position, which has changed.
    setErrors({});
    setSaveError(null);
    setSaved(null);
  }

  async function sendTest(draft: SlackRuleDraft) {
    const channel = channelName(draft);
    setTests((t) => ({ ...t, [draft.key]: { sending: true, result: null, error: null, channel } }));
    try {
      const result = await sendSlackTestMessage(integration.id, draft.channelId);
      setTests((t) => ({ ...t, [draft.key]: { sending: false, result, error: null, channel } }));
    } catch (e) {
      setTests((t) => ({ ...t, [draft.key]: { sending: false, result: null, error: describeError(e), channel } }));
    }
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaveError(null);
    setSaved(null);
    // A picker cannot hold a wrong channel, only none: said here, in the picker's words.
    const found: FieldErrors = {};
    drafts.forEach((d, i) => {
      if (!d.channelId) found[`rules.${i}.channelId`] = 'Choose the channel this rule posts to.';
    });
    setErrors(found);
    if (Object.keys(found).length > 0) {
      setSaveError({ message: 'Choose the channel of every rule.', details: [] });
      const first = drafts.find((_, i) => found[`rules.${i}.channelId`]);
      if (first) setEditing(first.key);
      return;
    }
    setSaving(true);
    try {
      const config = slackConfigFromDrafts(drafts, prefix);
      const next = await updateIntegration(current.id, {
        config: mergePatchBetween(current.config, config as unknown as Record<string, unknown>),
      });
      setCurrent(next);
      onChanged(next);
      const again = readSlackConfig(next.config);
      const keys = drafts.map((d) => d.key);
      setDrafts(again.rules.map((r, i) => slackRuleDraft(r, keys[i] ?? nextKey.current++)));
      setPrefix(again.publicReplyPrefix ?? '');
      setSaved(again.rules.length === 1 ? 'Rules saved: 1 rule.' : `Rules saved: ${again.rules.length} rules.`);
    } catch (e) {
      const failure = saveErrorFrom(e);
      const fieldErrors = fieldErrorsFrom(failure.details);
      setErrors(fieldErrors);
      setSaveError(failure);
      // The first rule the API named opens, so its fields show what is wrong.
      const named = drafts.find((_, i) =>
        Object.keys(fieldErrors).some((k) => k === `rules.${i}` || k.startsWith(`rules.${i}.`)),
      );
      if (named) setEditing(named.key);
    } finally {
      setSaving(false);
    }
  }

  const fields = [
    { name: 'rules', exact: true },
    { name: 'publicReplyPrefix' },
    ...drafts.flatMap((_, i) => [
      { name: `rules.${i}`, exact: true },
      ...[
        'name',
        'channelId',
        'kinds',
        'priorities',
        'statuses',
        'tags',
        'assignees',
        'requesterDomains',
        'ticketChannels',
        'id',
      ].map((f) => ({ name: `rules.${i}.${f}` })),
    ]),
  ];
  const leftover = unclaimedErrors(errors, fields);
  const ruleHasError = (index: number) =>
    Object.keys(errors).some((k) => k === `rules.${index}` || k.startsWith(`rules.${index}.`));

  return (
    <form className="slack-rules-form" aria-label="Slack channel rules" onSubmit={(e) => void save(e)} noValidate>
      <fieldset className="email-section">
        <legend>Channel rules</legend>
        <p className="hint">
          Each rule posts the tickets it matches to one channel: the ticket’s message once, kept current, with its later
          events in the message’s thread.
        </p>
        {channels.error && (
          <ErrorNotice
            message={`Could not read the workspace’s channels: ${channels.error}`}
            onRetry={() => void channels.reload()}
          />
        )}
        {drafts.length === 0 && <p className="muted">No rules yet: nothing is posted to channels.</p>}
        <ol className="slack-rules">
          {drafts.map((draft, index) => {
            const rule = slackRuleFromDraft(draft);
            const open = editing === draft.key;
            const test = tests[draft.key];
            const title = `Rule ${index + 1}${draft.name.trim() ? `: ${draft.name.trim()}` : ''}`;
            const ruleError = errorOf(errors, `rules.${index}`, true) ?? errorOf(errors, `rules.${index}.id`);
            return (
              <li key={draft.key} className="slack-rule" aria-label={title}>
                <div className="slack-rule-summary">
                  <div>
                    <h4>{title}</h4>
                    <p className="muted">
                      {draft.channelId ? `#${channelName(draft)}` : 'No channel yet'} ·{' '}
                      {rule.kinds.length ? rule.kinds.map((k) => slackKindLabels[k].label).join(', ') : 'nothing'} ·{' '}
                      {describeConditions(rule, nameOf)}
                    </p>
                    {!open && ruleHasError(index) && (
                      <p className="field-error">This rule has errors: edit it to see them.</p>
                    )}
                  </div>
                  <div className="form-actions">
                    <button
                      type="button"
                      className="button-secondary"
                      aria-expanded={open}
                      onClick={() => setEditing(open ? null : draft.key)}
                    >
                      {open ? 'Done' : 'Edit'}
                      <span className="visually-hidden"> rule {index + 1}</span>
                    </button>
                    <button
                      type="button"
                      className="button-secondary"
                      disabled={!draft.channelId || !connected || test?.sending}
                      onClick={() => void sendTest(draft)}
                    >
                      {test?.sending ? 'Sending…' : 'Send test message'}
                      <span className="visually-hidden"> for rule {index + 1}</span>
                    </button>
                    <button type="button" className="button-secondary" onClick={() => removeRule(draft.key)}>
                      Remove<span className="visually-hidden"> rule {index + 1}</span>
                    </button>
                  </div>
                </div>
                <div aria-live="polite">
                  {test?.result && (
                    <p className="notice notice-success">
                      Test message posted to #{test.channel}.{' '}
                      {test.result.permalink && (
                        <a href={test.result.permalink} target="_blank" rel="noreferrer">
                          Open it in Slack
                        </a>
                      )}
                    </p>
                  )}
                  {test?.error && (
                    <ErrorNotice message={`The test message to #${test.channel} failed: ${test.error}`} />
                  )}
                </div>
                {ruleError && <p className="field-error">{ruleError}</p>}
                {open && (
                  <RuleEditor
                    draft={draft}
                    channels={channels.data ?? undefined}
                    listing={channels.data ? 'listed' : channels.loading ? 'loading' : 'unavailable'}
                    members={people}
                    err={(field) => errorOf(errors, `rules.${index}.${field}`)}
                    onChange={(change, ...touched) => edit(draft.key, index, change, ...touched)}
                  />
                )}
              </li>
            );
          })}
        </ol>
        {drafts.length < 100 && (
          <button type="button" className="button-secondary" onClick={addRule}>
            Add rule
          </button>
        )}
      </fieldset>

      <fieldset className="email-section">
        <legend>Replies from Slack</legend>
        <TextField
          id={`${id}-prefix`}
          label="Word that makes a thread reply public"
          value={prefix}
          placeholder={installation?.publicReplyPrefix ?? '!reply'}
          onChange={(value) => {
            setPrefix(value);
            setSaved(null);
          }}
          error={errorOf(errors, 'publicReplyPrefix')}
          hint="A reply in a ticket’s thread that starts with this word goes to the customer; any other reply is an internal note. Empty: the server’s default."
        />
      </fieldset>

      <div className="form-errors" aria-live="polite">
        {saveError &&
          (leftover.length > 0 || errorOf(errors, 'rules', true) ? (
            <ErrorNotice
              message={saveError.message}
              details={[
                ...leftover,
                ...(errorOf(errors, 'rules', true)
                  ? [{ path: 'rules', message: errorOf(errors, 'rules', true)! }]
                  : []),
              ]}
            />
          ) : (
            <ErrorNotice
              message={saveError.details.length > 0 ? 'Please correct the fields marked above.' : saveError.message}
            />
          ))}
        {saved && <SuccessNotice message={saved} />}
      </div>
      <div className="form-actions">
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : 'Save rules'}
        </button>
      </div>
    </form>
  );
}

// ---- The person's own DMs ----

function DmPreferences() {
  const id = useId();
  const loaded = useLoader('slack-me', getSlackPreferences);
  const [choices, setChoices] = useState<SlackPreferences | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const shown = choices ?? loaded.data;

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!shown) return;
    setSaving(true);
    setError(null);
    setSaved(false);
    try {
      setChoices(await setSlackPreferences(shown));
      setSaved(true);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setSaving(false);
    }
  }

  const toggle = (name: keyof SlackPreferences, value: boolean) => {
    if (!shown) return;
    setChoices({ ...shown, [name]: value });
    setSaved(false);
  };

  return (
    <form className="slack-dms" aria-label="Your Slack DMs" onSubmit={(e) => void save(e)}>
      <fieldset className="email-section">
        <legend>Your Slack DMs</legend>
        <p className="hint">
          Only yours: Switchboard writes to you in every connected workspace where your Slack account has your email
          address.
        </p>
        {loaded.loading && !shown && <Loading what="your DM choices" />}
        {loaded.error && <ErrorNotice message={loaded.error} onRetry={() => void loaded.reload()} />}
        {shown && (
          <>
            <div className="field field-checkbox">
              <input
                id={`${id}-assignments`}
                type="checkbox"
                checked={shown.dmAssignments}
                onChange={(e) => toggle('dmAssignments', e.target.checked)}
              />
              <label htmlFor={`${id}-assignments`}>DM me when a ticket is assigned to me</label>
            </div>
            <div className="field field-checkbox">
              <input
                id={`${id}-mentions`}
                type="checkbox"
                checked={shown.dmMentions}
                onChange={(e) => toggle('dmMentions', e.target.checked)}
              />
              <label htmlFor={`${id}-mentions`}>DM me when I am mentioned</label>
            </div>
            <div className="form-actions">
              <button type="submit" className="button-secondary" disabled={saving}>
                {saving ? 'Saving…' : 'Save my DM choices'}
              </button>
            </div>
          </>
        )}
        <div aria-live="polite">
          {error && <ErrorNotice message={error} />}
          {saved && <SuccessNotice message="Your DM choices are saved." />}
        </div>
      </fieldset>
    </form>
  );
}

// ---- The setup ----

export function SlackIntegrationSetup({ integration, onSaved, onCancel }: IntegrationSetupProps) {
  const [params, setParams] = useSearchParams();
  // What the OAuth callback came back with, read once: the parameters are then taken out of the address.
  const [returned] = useState(() => ({
    outcome: params.get('slack'),
    integrationId: params.get('integration'),
    reason: params.get('reason'),
  }));
  const [current, setCurrent] = useState<Integration | null>(integration ?? null);
  const installations = useLoader('slack-installations', async () => (await listSlackInstallations()).data);
  const installation = installations.data?.find((i) => i.integrationId === current?.id);

  useEffect(() => {
    if (!returned.outcome) return;
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        for (const name of SLACK_RETURN_PARAMS) next.delete(name);
        return next;
      },
      { replace: true },
    );
  }, [returned, setParams]);

  const connectedNotice =
    returned.outcome === 'connected' && integration && returned.integrationId === integration.id
      ? `Connected to Slack${installation ? ` (${installation.teamName})` : ''}. Now choose which channels get which tickets.`
      : null;
  const returnError =
    returned.outcome === 'error'
      ? `Slack did not connect${returned.reason ? `: ${installErrors[returned.reason] ?? humanize(returned.reason)}` : ''}.`
      : null;

  function close() {
    if (current && current !== integration) onSaved(current);
    else onCancel();
  }

  return (
    <div className="slack-setup">
      <div aria-live="polite">{connectedNotice && <SuccessNotice message={connectedNotice} />}</div>
      {returnError && <ErrorNotice message={returnError} />}
      <section className="slack-workspaces" aria-label={current ? 'Slack workspace' : 'Slack workspaces'}>
        {installations.loading && !installations.data && <Loading what="the Slack workspaces" />}
        {installations.error && (
          <ErrorNotice message={installations.error} onRetry={() => void installations.reload()} />
        )}
        {current && installation && <WorkspaceStatus installation={installation} />}
        {current && installations.data && !installation && (
          <p className="notice notice-error">This installation has no Slack workspace: add Switchboard to Slack.</p>
        )}
        {!current && installations.data && installations.data.length > 0 && (
          <ul className="slack-workspace-list" aria-label="Connected workspaces">
            {installations.data.map((i) => (
              <li key={i.integrationId}>
                <WorkspaceStatus installation={i} />
              </li>
            ))}
          </ul>
        )}
        <AddToSlack again={current !== null} />
      </section>
      {current && (
        <RulesForm
          key={current.id}
          integration={current}
          installation={installation}
          onChanged={(saved) => {
            setCurrent(saved);
            void installations.reload();
          }}
        />
      )}
      <DmPreferences />
      <div className="form-actions">
        <button type="button" className="button-secondary" onClick={close}>
          Close
        </button>
      </div>
    </div>
  );
}
