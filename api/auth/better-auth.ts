// better-auth: email + password sessions (cookie) and organisations with our three roles.
// Accounts are provisioned (seed script) or created by accepting an invitation (api/routes/invitations.ts), never
// self-service: sign-up and organisation creation are closed over HTTP and only reachable through the server-side
// API. Members and invitations are managed through Switchboard's own routes only, so better-auth's endpoints that
// write them are closed too (see MEMBERSHIP_PATHS_CLOSED).
import {
  account,
  type Database,
  invitation,
  member,
  organization as organizationTable,
  session,
  user,
  verification,
} from '@switchboard/database';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { organization } from 'better-auth/plugins';
import { createAccessControl } from 'better-auth/plugins/access';
import { adminAc, defaultStatements, memberAc } from 'better-auth/plugins/organization/access';
import type { Config } from '../../common/config.ts';
import type { Logger } from '../../common/logger.ts';

const accessControl = createAccessControl(defaultStatements);

/** Only admins may manage the organisation through better-auth's own endpoints (members, invitations). */
const roles = {
  admin: accessControl.newRole(adminAc.statements),
  agent: accessControl.newRole(memberAc.statements),
  viewer: accessControl.newRole(memberAc.statements),
};

export const SESSION_COOKIE_PREFIX = 'switchboard';

/** Password rules of every account, whoever creates it (better-auth's sign-in, invitation acceptance). */
export const PASSWORD_LENGTH = { min: 10, max: 128 } as const;

/**
 * better-auth's organization endpoints that invite, accept, change roles or remove members. Switchboard's routes
 * (/api/invitations, /api/members) do these with its own rules: a token shown once instead of the invitation id,
 * an account created only through a valid invitation, the last admin kept, an audit row in the same transaction.
 * Left open, these would be a second path around all four, so they answer 404 like sign-up.
 */
export const MEMBERSHIP_PATHS_CLOSED = [
  '/organization/invite-member',
  '/organization/accept-invitation',
  '/organization/reject-invitation',
  '/organization/cancel-invitation',
  '/organization/get-invitation',
  '/organization/list-invitations',
  '/organization/list-user-invitations',
  '/organization/update-member-role',
  '/organization/remove-member',
  '/organization/leave',
];

/**
 * The client's address, set by our Express layer (api/auth/auth-routes.ts) from the socket or the trusted proxy
 * hops, replacing whatever a client sent under this name. better-auth reads the address from this header only.
 */
export const CLIENT_ADDRESS_HEADER = 'x-switchboard-client-address';

/** Origins allowed to make cookie-authenticated state changes (the dashboard is served by the API itself). */
export function trustedOrigins(config: Config): string[] {
  return [new URL(config.publicUrl).origin];
}

export function createAuth({ db, config, logger }: { db: Database; config: Config; logger: Logger }) {
  const authLogger = logger.child({ component: 'better-auth' });
  return betterAuth({
    appName: 'Switchboard',
    secret: config.authSecret,
    baseURL: config.publicUrl,
    basePath: '/api/auth',
    trustedOrigins: trustedOrigins(config),
    database: drizzleAdapter(db, {
      provider: 'pg',
      schema: { user, session, account, verification, organization: organizationTable, member, invitation },
    }),
    emailAndPassword: {
      enabled: true,
      minPasswordLength: PASSWORD_LENGTH.min,
      maxPasswordLength: PASSWORD_LENGTH.max,
    },
    disabledPaths: ['/sign-up/email', ...MEMBERSHIP_PATHS_CLOSED],
    plugins: [
      organization({
        ac: accessControl,
        roles,
        creatorRole: 'admin',
        allowUserToCreateOrganization: false,
        disableOrganizationDeletion: true,
      }),
    ],
    // On in every environment (better-auth turns it on only in production by default), per client address, in
    // memory: each API instance counts its own clients. The per account-and-address back-off
    // (api/auth/sign-in-backoff.ts) is in PostgreSQL and shared.
    rateLimit: {
      enabled: true,
      // One store per auth instance: better-auth's own memory store is one map for the whole process, so two apps in
      // one process (tests, or an embedder) would count each other's requests.
      customStorage: instanceRateLimitStore(),
      window: config.auth.otherPerAddress.windowSeconds,
      max: config.auth.otherPerAddress.max,
      customRules: {
        '/sign-in/*': { window: config.auth.signInPerAddress.windowSeconds, max: config.auth.signInPerAddress.max },
      },
    },
    advanced: {
      cookiePrefix: SESSION_COOKIE_PREFIX,
      // Never X-Forwarded-For as the client sent it: Express resolves the address (TRUST_PROXY) and sets this header.
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
      // better-auth skips origin checks when it detects a test run; ours must exercise the real thing.
      disableOriginCheck: false,
      defaultCookieAttributes: { sameSite: 'lax', httpOnly: true },
    },
    telemetry: { enabled: false },
    logger: {
      level: 'warn',
      log: (level, message) => authLogger[level === 'debug' ? 'debug' : level](message),
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;

/**
 * Per-address request counts of one auth instance, in fixed windows: `consume` checks and counts in one step, as
 * better-auth's storage contract asks. Memory only, like better-auth's own: each API instance counts separately
 * (the per-account back-off in sign-in-limits is the part shared through the database).
 */
function instanceRateLimitStore() {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return {
    async consume(key: string, rule: { window: number; max: number }) {
      const now = Date.now();
      // Forget ended windows once the map grows, so a flood of addresses cannot grow it for ever.
      if (windows.size > 10_000) for (const [k, w] of windows) if (w.resetAt <= now) windows.delete(k);
      const open = windows.get(key);
      if (open && open.resetAt <= now) windows.delete(key);
      const current = windows.get(key) ?? { count: 0, resetAt: now + rule.window * 1000 };
      if (current.count >= rule.max) {
        return { allowed: false, retryAfter: Math.max(1, Math.ceil((current.resetAt - now) / 1000)) };
      }
      current.count += 1;
      windows.set(key, current);
      return { allowed: true, retryAfter: null };
    },
  };
}
