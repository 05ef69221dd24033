// Every message Switchboard posts carries its post key in Slack's message metadata. An attempt that died after
// posting finds its message by it, and a reply that arrives before the post recorded its ts finds its ticket by it.

export const POST_METADATA_TYPE = 'switchboard_post';

/** A message as conversations.history and conversations.replies return it with include_all_metadata. */
export type MessageWithMetadata = {
  ts?: string;
  /** Who posted it: our bot's user id for our own posts. */
  user?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
};

/** The metadata a post under `key` carries. */
export function postMetadata(key: string) {
  return { event_type: POST_METADATA_TYPE, event_payload: { post_key: key } };
}

/** The post key a message carries, if Switchboard posted it. */
export function postKeyOf(message: MessageWithMetadata | undefined): string | undefined {
  if (message?.metadata?.event_type !== POST_METADATA_TYPE) return undefined;
  const key = message.metadata.event_payload?.post_key;
  return typeof key === 'string' ? key : undefined;
}
