// The kinds of Slack message a channel rule can ask for. No imports: the workflow bundle and the dashboard read it.

export const slackMessageKinds = ['new_ticket', 'status_change', 'high_priority', 'sla'] as const;
export type SlackMessageKind = (typeof slackMessageKinds)[number];
