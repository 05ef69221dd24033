// The Slack message a rule would send, drawn the way Slack draws it: the app's name and avatar, the Block Kit blocks
// (sections with mrkdwn and two-column fields, the context line, the actions as buttons and a select) and, for kinds
// that answer in the ticket's thread, that reply under the message. The blocks are the server's own
// (POST /api/slack/preview renders them with the code that posts them), so what is shown is what Slack would get.
// The controls are pictures: nothing in the preview can be clicked through to Slack or to the sample ticket.
import { type ReactNode, useEffect, useId, useState } from 'react';
import {
  ApiError,
  describeError,
  previewSlackMessage,
  type SlackMessageKind,
  type SlackPreview,
  type SlackPreviewInput,
  type SlackRule,
} from '../../api.ts';
import { type MrkdwnNode, parseMrkdwn, plainText, slackKindLabels, slackMessageKinds } from '../../slack.ts';
import { ErrorNotice, Loading } from '../Notices.tsx';

type TextObject = { type?: string; text?: string; emoji?: boolean };
type Element = {
  type?: string;
  text?: TextObject;
  placeholder?: TextObject;
  options?: { text?: TextObject; value?: string }[];
  initial_option?: { text?: TextObject; value?: string };
  style?: 'primary' | 'danger';
  url?: string;
  alt_text?: string;
  action_id?: string;
} & TextObject;
type Block = {
  type?: string;
  text?: TextObject;
  fields?: TextObject[];
  elements?: Element[];
  accessory?: Element;
  alt_text?: string;
  title?: TextObject;
};

function MrkdwnNodes({ nodes }: { nodes: MrkdwnNode[] }): ReactNode {
  return nodes.map((node, i) => {
    // The nodes of one text never change order while it is shown.
    const key = i;
    switch (node.type) {
      case 'text':
        return node.text;
      case 'break':
        return <br key={key} />;
      case 'bold':
        return (
          <strong key={key}>
            <MrkdwnNodes nodes={node.children} />
          </strong>
        );
      case 'italic':
        return (
          <em key={key}>
            <MrkdwnNodes nodes={node.children} />
          </em>
        );
      case 'strike':
        return (
          <s key={key}>
            <MrkdwnNodes nodes={node.children} />
          </s>
        );
      case 'quote':
        return (
          <blockquote key={key} className="slack-quote">
            <MrkdwnNodes nodes={node.children} />
          </blockquote>
        );
      case 'code':
        return (
          <code key={key} className="slack-code">
            {node.text}
          </code>
        );
      case 'pre':
        return (
          <pre key={key} className="slack-pre">
            {node.text}
          </pre>
        );
      case 'link':
        return (
          <a key={key} href={node.url} target="_blank" rel="noreferrer noopener" className="slack-link">
            <MrkdwnNodes nodes={node.children} />
          </a>
        );
      case 'mention':
        return (
          <span key={key} className="slack-mention">
            {node.text}
          </span>
        );
      case 'date':
        return (
          <time key={key} dateTime={node.iso} title={node.fallback}>
            {node.text}
          </time>
        );
      case 'emoji':
        return (
          <span key={key} role="img" aria-label={node.name.replaceAll('_', ' ')} title={`:${node.name}:`}>
            {node.text}
          </span>
        );
      default:
        return null;
    }
  });
}

/** A text object: mrkdwn rendered, plain_text as it is (with its emoji). */
export function SlackText({ text }: { text: TextObject | undefined }) {
  if (!text?.text) return null;
  if (text.type === 'mrkdwn') return <MrkdwnNodes nodes={parseMrkdwn(text.text)} />;
  return <>{plainText(text.text, text.emoji !== false)}</>;
}

function ElementView({ element }: { element: Element }) {
  switch (element.type) {
    case 'button':
      return (
        <button
          type="button"
          className={`slack-button${element.style ? ` slack-button-${element.style}` : ''}`}
          disabled
          title={element.url ? `Opens ${element.url}` : undefined}
        >
          <SlackText text={element.text} />
        </button>
      );
    case 'static_select':
    case 'users_select':
    case 'conversations_select':
    case 'channels_select':
    case 'external_select': {
      const label = plainText(element.placeholder?.text ?? 'Select');
      const options = element.options ?? [];
      return (
        <select
          className="slack-select"
          aria-label={label}
          disabled
          value={element.initial_option?.value ?? ''}
          onChange={() => {}}
        >
          {!element.initial_option && <option value="">{label}</option>}
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {plainText(o.text?.text ?? o.value ?? '')}
            </option>
          ))}
        </select>
      );
    }
    case 'overflow':
      return (
        <button type="button" className="slack-button" disabled aria-label="More actions">
          ⋯
        </button>
      );
    case 'image':
      // Images are not fetched from the preview (a URL in a message must not learn who looked at it).
      return <span className="slack-image-placeholder">{element.alt_text ?? 'image'}</span>;
    case 'mrkdwn':
    case 'plain_text':
      return (
        <span>
          <SlackText text={element} />
        </span>
      );
    default:
      return <span className="muted">[{element.type ?? 'element'}]</span>;
  }
}

function BlockView({ block }: { block: Block }) {
  switch (block.type) {
    case 'section':
      return (
        <div className="slack-section">
          <div className="slack-section-body">
            {block.text && (
              <div className="slack-section-text">
                <SlackText text={block.text} />
              </div>
            )}
            {block.fields && (
              <div className="slack-fields">
                {block.fields.map((field, i) => (
                  // Fields are positional, as in Slack.
                  // biome-ignore lint/suspicious/noArrayIndexKey: a field has no identity but its place
                  <div key={i} className="slack-field">
                    <SlackText text={field} />
                  </div>
                ))}
              </div>
            )}
          </div>
          {block.accessory && (
            <div className="slack-accessory">
              <ElementView element={block.accessory} />
            </div>
          )}
        </div>
      );
    case 'context':
      return (
        <div className="slack-context">
          {(block.elements ?? []).map((element, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a context element has no identity but its place
            <ElementView key={i} element={element} />
          ))}
        </div>
      );
    case 'actions':
      return (
        <div className="slack-actions">
          {(block.elements ?? []).map((element, i) => (
            <ElementView key={element.action_id ?? i} element={element} />
          ))}
        </div>
      );
    case 'header':
      return (
        <p className="slack-header">
          <SlackText text={block.text} />
        </p>
      );
    case 'divider':
      return <hr className="slack-divider" />;
    case 'image':
      return (
        <p className="slack-image-placeholder">
          <SlackText text={block.title} /> {block.alt_text}
        </p>
      );
    default:
      return <p className="muted">[{block.type ?? 'block'} block]</p>;
  }
}

export type SlackMessageContent = { text: string; blocks: Record<string, unknown>[] };

/** One message as Slack lists it: the app's avatar and name, then its blocks (or its text, without blocks). */
export function SlackMessageView({
  message,
  appName = 'Switchboard',
  label,
}: {
  message: SlackMessageContent;
  appName?: string;
  label: string;
}) {
  const blocks = message.blocks as Block[];
  return (
    <article className="slack-message" aria-label={label}>
      <div className="slack-avatar" aria-hidden="true">
        {appName.charAt(0)}
      </div>
      <div className="slack-message-body">
        <p className="slack-message-meta">
          <span className="slack-app-name">{appName}</span> <span className="slack-app-badge">App</span>{' '}
          <span className="slack-time">now</span>
        </p>
        {blocks.length > 0 ? (
          blocks.map((block, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: blocks are positional within a message
            <BlockView key={i} block={block} />
          ))
        ) : (
          <div className="slack-section-text">
            <SlackText text={{ type: 'mrkdwn', text: message.text }} />
          </div>
        )}
      </div>
    </article>
  );
}

/** The ticket's message and, when the kind answers in its thread, the reply there, as Slack would show them. */
export function SlackPreviewView({ preview, channelName }: { preview: SlackPreview; channelName?: string }) {
  return (
    <div className="slack-window">
      {channelName && <p className="slack-channel-name">#{channelName}</p>}
      <SlackMessageView message={preview.parent} label="The ticket’s message" />
      {preview.reply && (
        <div className="slack-thread">
          <p className="slack-thread-count">1 reply</p>
          <SlackMessageView message={preview.reply} label="The reply in the ticket’s thread" />
        </div>
      )}
    </div>
  );
}

type Props = {
  /** The rule as edited (unsaved is fine): the preview says whether it would send the ticket. */
  rule?: SlackRule;
  /** A real ticket to show; a sample one otherwise. */
  ticketId?: string;
  /** The kinds to offer (default: the rule's, or all). */
  kinds?: readonly SlackMessageKind[];
};

/** Asks the server for the message and shows it, with a choice of which kind of message to see. */
export function SlackNotificationPreview({ rule, ticketId, kinds }: Props) {
  const id = useId();
  const offered = kinds ?? (rule?.kinds.length ? rule.kinds : slackMessageKinds);
  const [chosen, setChosen] = useState<SlackMessageKind>(offered[0] ?? 'new_ticket');
  const kind = offered.includes(chosen) ? chosen : (offered[0] ?? 'new_ticket');
  const [preview, setPreview] = useState<SlackPreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The rule as typed may not be valid yet (a domain half written): the message is still shown, the verdict waits.
  const [ruleProblem, setRuleProblem] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  // A rule without a channel or a kind cannot be judged yet: the message is shown without the verdict.
  const judged = rule?.channelId && rule.kinds.length > 0 ? rule : undefined;
  const request = JSON.stringify({ kind, rule: judged, ticketId });

  useEffect(() => {
    let current = true;
    setLoading(true);
    // Typing in the rule's fields asks again once the typing pauses, not at every key.
    const timer = setTimeout(async () => {
      const input = JSON.parse(request) as SlackPreviewInput;
      try {
        let answer: SlackPreview;
        let problem: string | null = null;
        try {
          answer = await previewSlackMessage(input);
        } catch (e) {
          const ofRule = e instanceof ApiError ? e.details.filter((d) => d.path.startsWith('body.rule')) : [];
          if (!input.rule || ofRule.length === 0) throw e;
          problem = ofRule.map((d) => d.message).join('; ');
          answer = await previewSlackMessage({ ...input, rule: undefined });
        }
        if (!current) return;
        setPreview(answer);
        setRuleProblem(problem);
        setError(null);
      } catch (e) {
        if (current) setError(describeError(e));
      } finally {
        if (current) setLoading(false);
      }
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [request]);

  return (
    <section className="slack-preview" aria-labelledby={`${id}-title`}>
      <div className="slack-preview-heading">
        <h4 id={`${id}-title`}>Preview in Slack</h4>
        {offered.length > 1 && (
          <div className="field">
            <label htmlFor={`${id}-kind`}>Message for</label>
            <select id={`${id}-kind`} value={kind} onChange={(e) => setChosen(e.target.value as SlackMessageKind)}>
              {offered.map((k) => (
                <option key={k} value={k}>
                  {slackKindLabels[k].label}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <div aria-live="polite">
        {preview && judged && ruleProblem && (
          <p className="notice notice-warning">
            Whether this rule sends {ticketId ? 'this ticket' : 'the sample ticket'} shows once the rule is valid (
            {ruleProblem}).
          </p>
        )}
        {preview && judged && !ruleProblem && preview.matches !== null && (
          <p className={`notice ${preview.matches ? 'notice-success' : 'notice-warning'}`}>
            {preview.matches
              ? `This rule would send ${ticketId ? 'this ticket' : 'the sample ticket'}.`
              : `This rule would not send ${ticketId ? 'this ticket' : 'the sample ticket'} (its conditions do not match it).`}
          </p>
        )}
      </div>
      {loading && !preview && <Loading what="the preview" />}
      {error && <ErrorNotice message={`The preview could not be made: ${error}`} />}
      {preview && (
        <div className={loading ? 'slack-preview-stale' : undefined}>
          <SlackPreviewView preview={preview} channelName={rule?.channelName || undefined} />
        </div>
      )}
      {!ticketId && (
        <p className="hint">
          A sample ticket (#42, high priority, open, tagged billing, from carol@customer.test by email). Times show in
          your time zone, as Slack shows them to each reader.
        </p>
      )}
    </section>
  );
}
