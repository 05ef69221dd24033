// The Slack activities, each a thin adapter: the database steps of the Slack workflows and the calls to Slack (and
// one that syncs a round of tickets' events at once, activities/slack/sync.ts).
import type { SlackDeps } from '../../domain/slack/deps.ts';
import { handOverWaitingInbound } from '../../domain/slack/inbound.ts';
import type { SlackInstallationRef, SlackTicketEvents, SlackTicketRef } from '../../workflows/slack-contract.ts';
import type { SlackOp } from '../../workflows/slack-thread-plan.ts';
import { TtlCache } from './cache.ts';
import { type SlackClients, slackClients } from './client.ts';
import { deliverSlackOp } from './deliver.ts';
import { applySlackInbound } from './inbound.ts';
import type { SlackPerson } from './people.ts';
import { respondToSlack } from './respond.ts';
import { syncSlackEvents, syncSlackTickets } from './sync.ts';
import {
  pauseSlackThread,
  pauseSlackTickets,
  planSlackOpsActivity,
  resumeSlackThread,
  resumeSlackTickets,
  slackConnection,
} from './threads.ts';

export type SlackRuntime = SlackDeps & {
  clients: SlackClients;
  people: TtlCache<SlackPerson>;
  slackIdByEmail: TtlCache<string | null>;
  joined: Set<string>;
};

export function slackRuntime(deps: SlackDeps): SlackRuntime {
  return {
    ...deps,
    clients: slackClients(deps),
    people: new TtlCache(deps.settings.cacheTtlMs),
    slackIdByEmail: new TtlCache(deps.settings.cacheTtlMs),
    joined: new Set(),
  };
}

type InboundRef = { organizationId: string; integrationId: string; ticketId: string | null; inboundId: string };

export function createSlackActivities(runtime: SlackRuntime) {
  return {
    planSlackOps: (ref: SlackTicketRef & { eventIds: number[] }) => planSlackOpsActivity(runtime, ref),
    deliverSlackOp: (ref: SlackTicketRef & { op: SlackOp }) => deliverSlackOp(runtime, ref),
    syncSlackEvents: (ref: SlackTicketRef & { eventIds: number[] }) => syncSlackEvents(runtime, ref),
    syncSlackTickets: (ref: SlackInstallationRef & { tickets: SlackTicketEvents[] }) => syncSlackTickets(runtime, ref),
    applySlackInbound: (ref: InboundRef) => applySlackInbound(runtime, ref),
    respondToSlack: (ref: InboundRef) => respondToSlack(runtime, ref),
    pauseSlackThread: (ref: SlackTicketRef) => pauseSlackThread(runtime, ref),
    resumeSlackThread: (ref: SlackTicketRef) => resumeSlackThread(runtime, ref),
    pauseSlackTickets: (ref: SlackInstallationRef & { ticketIds: string[] }) => pauseSlackTickets(runtime, ref),
    resumeSlackTickets: (ref: SlackInstallationRef & { ticketIds: string[] }) => resumeSlackTickets(runtime, ref),
    slackConnection: (ref: SlackInstallationRef) => slackConnection(runtime, ref),
    /** The sweep's one step: rows from Slack whose request could not hand them over (domain/slack/inbound.ts). */
    handOverWaitingSlackInbound: () => handOverWaitingInbound(runtime),
  };
}

export type SlackActivities = ReturnType<typeof createSlackActivities>;
