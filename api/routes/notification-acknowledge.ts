// The "Acknowledge" link of a critical alert's email. Public: the recipient clicks it in their mail client, with no
// session; the signed token (domain/notifications/alerts.ts) names the organisation, the alert and the member it
// was sent to, and is the only credential.
//
// A GET changes nothing. Mail scanners (Microsoft Defender's Safe Links, Mimecast, Proofpoint) and link previews
// fetch every link in a mail before a person does: a GET that acknowledged would cancel the escalation of every
// alert the moment it was delivered, and nobody would be paged. So the GET shows the alert's state and a button
// that POSTs the token back (a form, no script); only the POST acknowledges. Scanners follow links, they do not
// submit forms.
//
// Answers are small HTML pages, never JSON or a stack: a bad or altered token is 400, an alert that no longer
// exists 404, a member who left the organisation 403, anything unexpected 503 ("try again"). The token is in the
// URL, so pages are not cached, not indexed and send no Referer.

import { type Database, notificationAlerts } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import express, { type Request, type Response, Router } from 'express';
import { escapeHtml } from '../../common/email/template.ts';
import { memberById } from '../../domain/members/lookup.ts';
import { acknowledgeAlert, readAlertAckToken } from '../../domain/notifications/alerts.ts';
import { z } from '../../domain/zod.ts';
import type { ApiDeps } from '../http/deps.ts';
import { registry } from '../openapi/registry.ts';

export const NOTIFICATION_ACKNOWLEDGE_PATH = '/api/notifications/acknowledge';

/**
 * GET shows the alert and a button, POST (form body `token`) acknowledges. Mount it before authentication, like the
 * other public routers; it parses its own urlencoded body (a few KB at most), so it needs no parser in front.
 */
/** The page is not JSON and reads no session: documented by hand, once. */
let documented = false;
function documentAcknowledgeRoutes(): void {
  if (documented) return;
  documented = true;
  const token = z.object({ token: z.string().describe('The signed token from the alert’s email') });
  const html = { 'text/html': { schema: { type: 'string' as const } } };
  registry.registerPath({
    method: 'get',
    path: NOTIFICATION_ACKNOWLEDGE_PATH,
    summary:
      'The “Acknowledge” link of a critical alert’s email: shows the alert and a button, and changes nothing (mail ' +
      'scanners open links). No session: the token (HMAC of the organisation, alert and person) is the proof.',
    tags: ['Notifications'],
    request: { query: token },
    responses: {
      200: { description: 'The alert, with a button that posts the token', content: html },
      400: { description: 'A missing or altered token', content: html },
      403: { description: 'The person is no longer a member', content: html },
      404: { description: 'The alert is gone', content: html },
    },
  });
  registry.registerPath({
    method: 'post',
    path: NOTIFICATION_ACKNOWLEDGE_PATH,
    summary:
      'Acknowledges the alert as the person the token names (an agent or an admin), which cancels its escalation; ' +
      'says who did if somebody already had',
    tags: ['Notifications'],
    request: { body: { content: { 'application/x-www-form-urlencoded': { schema: token } } } },
    responses: {
      200: { description: 'Acknowledged, or already acknowledged (by whom)', content: html },
      400: { description: 'A missing or altered token', content: html },
      403: { description: 'No longer a member, or a viewer', content: html },
      404: { description: 'The alert is gone', content: html },
    },
  });
}

export function notificationAcknowledgeRouter(deps: Pick<ApiDeps, 'db' | 'config' | 'temporal' | 'logger'>): Router {
  documentAcknowledgeRoutes();
  const router = Router();

  router.get(NOTIFICATION_ACKNOWLEDGE_PATH, (req, res) => {
    void handle(res, deps, async () => {
      const claim = claimOf(deps, req.query.token);
      if (!claim) return badToken(res);
      const alert = await alertOf(deps.db, claim.organizationId, claim.alertId);
      if (!alert) return gone(res);
      if (!(await memberById(deps.db, claim.organizationId, claim.userId))) return notMember(res);
      if (alert.acknowledgedAt)
        return page(res, 200, 'Already acknowledged', alreadyText(await byName(deps.db, claim.organizationId, alert)));
      page(
        res,
        200,
        'Acknowledge this alert?',
        `<p>Acknowledging tells Switchboard that you are on it: the alert will not be escalated.</p>
<form method="post" action="${NOTIFICATION_ACKNOWLEDGE_PATH}">
<input type="hidden" name="token" value="${escapeHtml(String(req.query.token))}">
<button type="submit" style="padding:10px 18px;font-size:16px;background:#b91c1c;color:#fff;border:0;border-radius:4px;cursor:pointer;">Acknowledge</button>
</form>`,
      );
    });
  });

  router.post(
    NOTIFICATION_ACKNOWLEDGE_PATH,
    express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 5 }),
    (req: Request, res: Response) => {
      void handle(res, deps, async () => {
        const claim = claimOf(deps, (req.body as Record<string, unknown> | undefined)?.token);
        if (!claim) return badToken(res);
        const person = await memberById(deps.db, claim.organizationId, claim.userId);
        if (!person) return notMember(res);
        // As in the dashboard: a viewer's link shows the alert but cannot cancel its escalation.
        if (person.role !== 'admin' && person.role !== 'agent') return notAllowed(res);
        let result: Awaited<ReturnType<typeof acknowledgeAlert>>;
        try {
          result = await acknowledgeAlert(deps, claim.organizationId, claim.alertId, claim.userId);
        } catch (error) {
          if ((error as { status?: number }).status === 404) return gone(res);
          throw error;
        }
        if (result.acknowledgedNow)
          return page(
            res,
            200,
            'Acknowledged',
            '<p>Thank you: the alert is acknowledged and will not be escalated.</p>',
          );
        const [alert] = await deps.db
          .select({ acknowledgedBy: notificationAlerts.acknowledgedBy })
          .from(notificationAlerts)
          .where(eq(notificationAlerts.id, claim.alertId));
        page(
          res,
          200,
          'Already acknowledged',
          alreadyText(await byName(deps.db, claim.organizationId, { acknowledgedBy: alert?.acknowledgedBy ?? null })),
        );
      });
    },
  );

  // A body that is not a form (or too large): still a page, never the API's JSON error.
  router.use(NOTIFICATION_ACKNOWLEDGE_PATH, ((error, _req, res, _next) => {
    const status = (error as { status?: number }).status;
    if (res.headersSent) return;
    page(res, status === 413 ? 413 : 400, 'This link is not valid', '<p>The request could not be read.</p>');
  }) as express.ErrorRequestHandler);
  return router;
}

function claimOf(deps: Pick<ApiDeps, 'config'>, token: unknown) {
  if (typeof token !== 'string' || token.length === 0 || token.length > 2000) return null;
  return readAlertAckToken(deps.config.authSecret, token);
}

async function alertOf(db: Database, organizationId: string, alertId: string) {
  // The id came out of a signed token, but a row id is checked as one before it reaches a uuid column.
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(alertId)) return null;
  const [alert] = await db
    .select({ acknowledgedAt: notificationAlerts.acknowledgedAt, acknowledgedBy: notificationAlerts.acknowledgedBy })
    .from(notificationAlerts)
    .where(and(eq(notificationAlerts.id, alertId), eq(notificationAlerts.organizationId, organizationId)));
  return alert ?? null;
}

async function byName(db: Database, organizationId: string, alert: { acknowledgedBy: string | null }) {
  const by = alert.acknowledgedBy;
  if (!by) return 'someone';
  if (by.startsWith('slack:')) return 'someone in Slack';
  return (await memberById(db, organizationId, by))?.name ?? 'a former member';
}

function alreadyText(name: string): string {
  return `<p>Already acknowledged by ${escapeHtml(name)}: nothing more to do.</p>`;
}

const badToken = (res: Response) =>
  page(
    res,
    400,
    'This link is not valid',
    '<p>The link is incomplete or was altered. Open the alert in Switchboard.</p>',
  );
const gone = (res: Response) => page(res, 404, 'Alert not found', '<p>This alert no longer exists.</p>');
const notMember = (res: Response) =>
  page(res, 403, 'Not a member', '<p>You are no longer a member of the organisation this alert belongs to.</p>');
const notAllowed = (res: Response) =>
  page(res, 403, 'Not allowed', '<p>Only an agent or an admin can acknowledge an alert. Ask one of them.</p>');

async function handle(res: Response, deps: Pick<ApiDeps, 'logger'>, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    deps.logger.error({ err: error }, 'notification acknowledgement failed');
    if (!res.headersSent)
      page(res, 503, 'Please try again', '<p>Switchboard could not record this just now. Try again in a minute.</p>');
  }
}

/** `title` is ours; `html` is ours with every interpolated value escaped by the caller. */
function page(res: Response, status: number, title: string, html: string): void {
  res
    .status(status)
    .set({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-robots-tag': 'noindex',
      'x-content-type-options': 'nosniff',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    })
    .send(
      `<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)} · Switchboard</title></head>
<body style="font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;max-width:520px;margin:48px auto;padding:0 16px;color:#111827;">
<h1 style="font-size:22px;">${escapeHtml(title)}</h1>
${html}
</body></html>`,
    );
}
