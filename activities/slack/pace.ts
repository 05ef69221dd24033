// Slack's pace for posting into one channel: "about one message per second, with bursts allowed". Every worker
// shares it through one row per channel holding the theoretical arrival time of the channel's next message (GCRA, the
// leaky bucket as a single timestamp): a post reserves its slot in one statement, then waits for it. A wait longer
// than a short sleep is handed back to Temporal as a retry at that time, so a backlog never holds a worker slot and
// says why it waits. Slack's own 429 and Retry-After remain the final word (activities/slack/client.ts).
import { type Database, slackChannelPace } from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, sql } from 'drizzle-orm';

export type ChannelPace = { postsPerSecond: number; burst: number };

/**
 * Takes the channel's next slot if it comes within `maxWaitMs`, and says how long to wait for it (0: post now); a
 * slot further out is not taken (`taken: false`), so a post that comes back later does not push the channel's pace
 * ahead of itself.
 */
export async function reserveChannelSlot(
  db: Database,
  integrationId: string,
  channelId: string,
  pace: ChannelPace,
  maxWaitMs: number,
): Promise<{ taken: boolean; waitMs: number }> {
  if (pace.postsPerSecond <= 0) return { taken: true, waitMs: 0 };
  const intervalMs = 1000 / pace.postsPerSecond;
  const toleranceMs = intervalMs * pace.burst;
  return db.transaction(async (tx) => {
    await tx
      .insert(slackChannelPace)
      .values({ integrationId, channelId, tat: sql`clock_timestamp()` })
      .onConflictDoNothing();
    const [row] = await tx
      .select({
        tatMs: sql<string>`extract(epoch from ${slackChannelPace.tat}) * 1000`,
        nowMs: sql<string>`extract(epoch from clock_timestamp()) * 1000`,
      })
      .from(slackChannelPace)
      .where(and(eq(slackChannelPace.integrationId, integrationId), eq(slackChannelPace.channelId, channelId)))
      .for('update');
    const now = Number(row!.nowMs);
    const tat = Math.max(Number(row!.tatMs), now);
    // GCRA: the post may go once now ≥ tat - tolerance; taking it moves tat one interval on.
    const waitMs = Math.max(0, Math.ceil(tat - toleranceMs - now));
    if (waitMs > maxWaitMs) return { taken: false, waitMs };
    await tx
      .update(slackChannelPace)
      .set({ tat: new Date(tat + intervalMs) })
      .where(and(eq(slackChannelPace.integrationId, integrationId), eq(slackChannelPace.channelId, channelId)));
    return { taken: true, waitMs };
  });
}

/** Waits for the channel's slot: in place when it is near, otherwise as a Temporal retry at about that time. */
export async function awaitChannelSlot(
  db: Database,
  integrationId: string,
  channelId: string,
  pace: ChannelPace,
  maxSleepMs = 5000,
): Promise<void> {
  const { taken, waitMs } = await reserveChannelSlot(db, integrationId, channelId, pace, maxSleepMs);
  if (taken) {
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    return;
  }
  throw ApplicationFailure.create({
    message: `Slack's pace for channel ${channelId} (${pace.postsPerSecond}/s, bursts of ${pace.burst}): next slot in ${Math.ceil(waitMs / 1000)} s`,
    type: 'SlackChannelPace',
    nextRetryDelay: waitMs - maxSleepMs + 1,
  });
}
