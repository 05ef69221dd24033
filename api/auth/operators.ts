// Operators: the people who run this deployment (SWITCHBOARD_OPERATOR_EMAILS), as opposed to the organisations'
// admins, agents and viewers. Some capabilities cross organisations (the codec endpoint decodes every
// organisation's payloads, readiness details name the infrastructure), so no organisation role can grant them.
// Accounts are provisioned, never signed up over HTTP, and nobody can change an account's e-mail over HTTP, so an
// e-mail named here is as trustworthy as the account behind it.
import { type Database, user } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import type { RequestHandler } from 'express';
import type { Config } from '../../common/config.ts';
import { forbidden } from '../../common/errors.ts';
import { requireAuth } from '../http/context.ts';

export async function isOperator(db: Database, config: Pick<Config, 'operatorEmails'>, userId: string) {
  if (config.operatorEmails.length === 0) return false;
  const [row] = await db.select({ email: user.email }).from(user).where(eq(user.id, userId));
  return row !== undefined && config.operatorEmails.includes(row.email.toLowerCase());
}

/** After authenticate(): lets the deployment's operators through, whatever their role in an organisation. */
export function requireOperator(db: Database, config: Pick<Config, 'operatorEmails'>): RequestHandler {
  return async (req, _res, next) => {
    try {
      if (!(await isOperator(db, config, requireAuth(req).userId)))
        throw forbidden(
          "this is for the deployment's operators (SWITCHBOARD_OPERATOR_EMAILS), not an organisation role",
        );
      next();
    } catch (error) {
      next(error);
    }
  };
}
