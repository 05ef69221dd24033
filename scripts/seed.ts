// Idempotently creates the demo organisation "Acme Support" (slug acme) and its admin admin@acme.test.
// The password comes from SEED_ADMIN_PASSWORD or is generated; it is printed only when just set.
import { randomBytes } from 'node:crypto';
import { connectDatabase, member, organization, user } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { createAuth } from '../api/auth/better-auth.ts';
import { loadConfig } from '../common/config.ts';
import { createLogger } from '../common/logger.ts';

const ORGANIZATION = { name: 'Acme Support', slug: 'acme' };
const ADMIN = { name: 'Acme Admin', email: 'admin@acme.test' };

const config = loadConfig();
const database = connectDatabase(config.databaseUrl, 2);
const { db } = database;
const auth = createAuth({ db, config, logger: createLogger('warn', 'seed') });

try {
  const given = process.env.SEED_ADMIN_PASSWORD || undefined;
  let password: string | undefined;

  let [admin] = await db.select({ id: user.id }).from(user).where(eq(user.email, ADMIN.email));
  if (!admin) {
    password = given ?? randomBytes(12).toString('base64url');
    const created = await auth.api.signUpEmail({ body: { ...ADMIN, password } });
    admin = { id: created.user.id };
  } else if (given) {
    // An explicit password is the truth: make the existing account match it.
    const context = await auth.$context;
    await context.internalAdapter.updatePassword(admin.id, await context.password.hash(given));
    password = given;
  }

  const [existing] = await db
    .select({ id: organization.id })
    .from(organization)
    .where(eq(organization.slug, ORGANIZATION.slug));
  if (!existing) {
    await auth.api.createOrganization({ body: { ...ORGANIZATION, userId: admin.id } });
  } else {
    const [membership] = await db
      .select({ role: member.role })
      .from(member)
      .where(and(eq(member.organizationId, existing.id), eq(member.userId, admin.id)));
    if (!membership)
      await auth.api.addMember({ body: { userId: admin.id, organizationId: existing.id, role: 'admin' } });
    else if (membership.role !== 'admin')
      await db
        .update(member)
        .set({ role: 'admin' })
        .where(and(eq(member.organizationId, existing.id), eq(member.userId, admin.id)));
  }

  console.log(`seeded ${ORGANIZATION.name} (${ORGANIZATION.slug}); admin ${ADMIN.email}`);
  console.log(password ? `  password: ${password}` : '  password: unchanged (set SEED_ADMIN_PASSWORD to reset it)');
} finally {
  await database.close();
}
