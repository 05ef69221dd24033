// Notifications over the API (issue 13): the rules and their preview (admins), each member's preferences, the in-app
// centre, the fatigue view, acknowledging critical alerts, and the live unread count. Types are the OpenAPI
// document's; the lists a form offers come from the shared enumerations.
import {
  notificationCategories,
  notificationChannels,
  notificationStatuses,
  notificationTriggers,
  ticketChannels,
} from '../../../common/enums.ts';
import { reportUnauthenticated, toApiError } from './api.ts';
import type { components } from './openapi-types.ts';

export { notificationCategories, notificationChannels, notificationStatuses, notificationTriggers, ticketChannels };

type Schemas = components['schemas'];

export type NotificationRule = Schemas['NotificationRule'];
export type NotificationRuleInput = Schemas['NotificationRuleInput'];
export type NotificationRecipient = NotificationRuleInput['recipients'][number];
export type NotificationConditions = NonNullable<NotificationRuleInput['conditions']>;
export type NotificationDelivery = NonNullable<NotificationRuleInput['delivery']>;
export type NotificationChannel = NotificationRuleInput['channels'][number];
export type NotificationTrigger = NotificationRuleInput['triggerEvents'][number];
export type NotificationCategory = (typeof notificationCategories)[number];
export type NotificationPreferences = Schemas['NotificationPreferences'];
export type NotificationPreferencesInput = Schemas['NotificationPreferencesInput'];
export type AppNotification = Schemas['Notification'];
export type NotificationInbox = Schemas['NotificationInbox'];
export type NotificationPreviewInput = Schemas['NotificationPreviewInput'];
export type NotificationPreviewRow = Schemas['NotificationPreview']['data'][number];
export type AlertAcknowledgement = Schemas['AlertAcknowledgement'];

/** The same contract as api.ts's requests: the session cookie goes along, errors become ApiError. */
async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'include',
    headers:
      body === undefined
        ? { accept: 'application/json' }
        : { accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (response.status === 401) reportUnauthenticated();
  if (!response.ok) throw toApiError(response.status, parsed);
  return parsed as T;
}

const rulePath = (id: string) => `/api/notifications/rules/${encodeURIComponent(id)}`;

export function listNotificationRules(): Promise<{ data: NotificationRule[] }> {
  return request('GET', '/api/notifications/rules');
}

export function createNotificationRule(input: NotificationRuleInput): Promise<NotificationRule> {
  return request('POST', '/api/notifications/rules', input);
}

export function updateNotificationRule(id: string, changes: Partial<NotificationRuleInput>): Promise<NotificationRule> {
  return request('PATCH', rulePath(id), changes);
}

/** A default rule answers 409: it can be switched off, not deleted. */
export function deleteNotificationRule(id: string): Promise<void> {
  return request('DELETE', rulePath(id));
}

export function previewNotificationRule(input: NotificationPreviewInput): Promise<Schemas['NotificationPreview']> {
  return request('POST', '/api/notifications/preview', input);
}

export function getNotificationPreferences(): Promise<NotificationPreferences> {
  return request('GET', '/api/notifications/preferences');
}

export function saveNotificationPreferences(input: NotificationPreferencesInput): Promise<NotificationPreferences> {
  return request('PUT', '/api/notifications/preferences', input);
}

export function listNotifications(before?: number): Promise<NotificationInbox> {
  return request('GET', `/api/notifications${before ? `?before=${before}` : ''}`);
}

export function listHeldBack(before?: number): Promise<{ data: AppNotification[] }> {
  return request('GET', `/api/notifications/held-back${before ? `?before=${before}` : ''}`);
}

/** Answers the new unread count. */
export function markNotificationsRead(ids: number[] | 'all'): Promise<{ unread: number }> {
  return request('POST', '/api/notifications/read', ids === 'all' ? { all: true } : { ids });
}

export function acknowledgeAlert(alertId: string): Promise<AlertAcknowledgement> {
  return request('POST', `/api/notifications/alerts/${encodeURIComponent(alertId)}/acknowledge`, {});
}

export const NOTIFICATION_STREAM = '/api/notifications/stream';

export const channelLabels: Record<NotificationChannel, string> = {
  in_app: 'In app',
  email: 'Email',
  slack: 'Slack',
  webhook: 'Webhook',
};

export const categoryLabels: Record<NotificationCategory, { label: string; hint: string }> = {
  ticket: { label: 'Tickets', hint: 'created, updated, assigned, status changes' },
  comment: { label: 'Comments', hint: 'replies and internal notes' },
  sla: { label: 'SLA', hint: 'warnings and breaches' },
  attachment: { label: 'Attachments', hint: 'uploaded, blocked, failed' },
  integration: { label: 'Integrations', hint: 'an integration failing' },
};
