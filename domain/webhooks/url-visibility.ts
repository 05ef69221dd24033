// Who sees an endpoint's URL. Receivers often authenticate deliveries by a token in the URL's path or query (Slack
// and Zapier hooks, `?key=`), so the full URL is a credential: admins, who can change the endpoint anyway, see it;
// every other role sees where deliveries go (scheme and host) but not the secret parts. Audit metadata and endpoint
// events, which outlive the URL and are read by every member, only ever store the masked form.
import type { Role } from '../../common/enums.ts';
import type { IntegrationView } from '../integrations/schemas.ts';
import type { IntegrationEventView, WebhookEndpointView } from './schemas.ts';

const HIDDEN = '***';

/** `https://hooks.example.com/***?***`: scheme, host and port kept, path and query replaced, user info dropped. */
export function maskWebhookUrl(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed) return HIDDEN;
  const path = parsed.pathname === '/' || parsed.pathname === '' ? '/' : `/${HIDDEN}`;
  return `${parsed.protocol}//${parsed.host}${path}${parsed.search ? `?${HIDDEN}` : ''}${parsed.hash ? `#${HIDDEN}` : ''}`;
}

export const seesFullWebhookUrls = (role: Role): boolean => role === 'admin';

/** The display name of an endpoint: its description, or where it points (masked, so it can be stored). */
export function endpointName(config: { description?: string; url: string }): string {
  return (config.description || maskWebhookUrl(config.url)).slice(0, 200);
}

export function endpointViewFor(role: Role, view: WebhookEndpointView): WebhookEndpointView {
  return seesFullWebhookUrls(role) ? view : { ...view, url: maskWebhookUrl(view.url) };
}

/** Webhook rows of the generic integrations list carry the URL in their config and, for old rows, their name. */
export function integrationViewFor(role: Role, view: IntegrationView): IntegrationView {
  if (view.integrationType !== 'webhook' || seesFullWebhookUrls(role)) return view;
  const config = view.config as { url?: unknown; description?: unknown };
  if (typeof config.url !== 'string') return view;
  const description = typeof config.description === 'string' ? config.description : '';
  return {
    ...view,
    name: endpointName({ description, url: config.url }),
    config: { ...view.config, url: maskWebhookUrl(config.url) },
  };
}

/** Events written before URLs were stored masked still carry the full one: masked on the way out, for everyone. */
export function endpointEventView(event: IntegrationEventView): IntegrationEventView {
  const url = event.payload.url;
  return typeof url === 'string' ? { ...event, payload: { ...event.payload, url: maskWebhookUrl(url) } } : event;
}
