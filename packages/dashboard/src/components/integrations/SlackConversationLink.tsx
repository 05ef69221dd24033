// The ticket's messages in Slack: one per channel a rule posted it to, each a link to its thread there (where the
// ticket's later events and the agents' replies are). The messages are posted in the background after the ticket
// changes, so the list looks again every few seconds while the page is visible. An organisation without Slack sees
// nothing here.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import {
  describeError,
  listSlackInstallations,
  listTicketSlackConversations,
  type SlackConversation,
} from '../../api.ts';
import { useLoader } from '../../useLoader.ts';
import { ErrorNotice, Loading } from '../Notices.tsx';

export const SLACK_POLL_MS = 5000;

export function SlackConversationLink({ ticketId }: { ticketId: string }) {
  const id = useId();
  // The installations name the channels their rules post to (the conversation itself carries only the id).
  const installations = useLoader('slack-installations', async () => (await listSlackInstallations()).data);
  const usesSlack = installations.data ? installations.data.length > 0 : installations.error !== null;
  const [conversations, setConversations] = useState<SlackConversation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);

  const load = useCallback(async () => {
    const request = ++latest.current;
    try {
      const { data } = await listTicketSlackConversations(ticketId);
      if (request !== latest.current) return;
      setConversations(data);
      setError(null);
    } catch (e) {
      if (request === latest.current) setError(describeError(e));
    }
  }, [ticketId]);

  useEffect(() => {
    if (!usesSlack) return;
    setConversations(null);
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, SLACK_POLL_MS);
    return () => {
      clearInterval(timer);
      latest.current++;
    };
  }, [load, usesSlack]);

  if (!usesSlack) return null;

  const channelName = (c: SlackConversation) => {
    const installation = installations.data?.find((i) => i.integrationId === c.integrationId);
    return installation?.rules.find((r) => r.channelId === c.channelId && r.channelName)?.channelName ?? c.channelId;
  };

  return (
    <section className="card slack-conversations" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Slack</h2>
      {conversations === null && !error && <Loading what="the ticket’s Slack threads" />}
      {error && <ErrorNotice message={error} onRetry={() => void load()} />}
      {conversations && conversations.length === 0 && (
        <p className="muted">Not posted to Slack: no channel rule matches this ticket (yet).</p>
      )}
      {conversations && conversations.length > 0 && (
        <ul className="slack-conversation-list" aria-label="Slack threads">
          {conversations.map((c) => {
            const where = `#${channelName(c)} in ${c.teamName}`;
            return (
              <li key={`${c.integrationId}:${c.channelId}`}>
                {c.permalink ? (
                  <a href={c.permalink} target="_blank" rel="noreferrer">
                    {where}
                    <span className="visually-hidden"> (opens Slack in a new tab)</span>
                  </a>
                ) : (
                  <span>{where}</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
