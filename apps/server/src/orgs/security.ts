import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { sessionPolicyFor } from '../auth/sessions.js';
import type { Config } from '../config.js';
import type { Context } from '../context.js';
import { withTenant } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { mfaMethods, mfaRequiredFor } from '../mfa/methods.js';

export type SecurityPolicy = { requireMfa: boolean; sessionIdleMinutes: number; sessionAbsoluteHours: number };

// The lowest idle timeout an organization may set: below it people are logged
// out while reading a long feedback thread.
const MIN_IDLE_MINUTES = 5;
const MIN_ABSOLUTE_HOURS = 1;

/** The installation's timeouts are the ceiling: an organization may only make them shorter. */
const limitsOf = (config: Config) => ({ idleMinutesMax: config.sessionIdleMinutes, absoluteHoursMax: config.sessionAbsoluteHours });

type PolicyRow = { require_mfa: boolean; session_idle_minutes: number; session_absolute_hours: number };

/** As enforced: a stored value above a since-lowered installation limit counts as the limit (sessionPolicyFor does the same). */
const toPolicy = (row: PolicyRow, config: Config): SecurityPolicy => ({
  requireMfa: row.require_mfa,
  sessionIdleMinutes: Math.min(row.session_idle_minutes, config.sessionIdleMinutes),
  sessionAbsoluteHours: Math.min(row.session_absolute_hours, config.sessionAbsoluteHours),
});

export async function getSecurityPolicy(ctx: Context, orgId: string) {
  const row = await withTenant(ctx.db.app, orgId, async (tx) => {
    const { rows } = await tx.query<PolicyRow>('SELECT require_mfa, session_idle_minutes, session_absolute_hours FROM organizations WHERE id = $1', [orgId]);
    return rows[0]!;
  });
  return { ...toPolicy(row, ctx.config), limits: limitsOf(ctx.config) };
}

function checkRange(name: string, value: number, min: number, max: number, unit: string): void {
  if (value < Math.min(min, max) || value > max) {
    throw new AppError('validation_failed', `${name} must be between ${Math.min(min, max)} and ${max} ${unit} (${max} is this installation's limit).`);
  }
}

/**
 * Changes the organization's policy and applies it to the sessions of every
 * member at once: timeouts become the strictest of all the user's
 * organizations (never longer than a session already had), and members
 * without a second factor are sent to enrollment while MFA is required
 * (which only someone who has MFA may switch on).
 */
export async function setSecurityPolicy(ctx: Context, orgId: string, userId: string, policy: SecurityPolicy, actor: Actor) {
  const { idleMinutesMax, absoluteHoursMax } = limitsOf(ctx.config);
  checkRange('sessionIdleMinutes', policy.sessionIdleMinutes, MIN_IDLE_MINUTES, idleMinutesMax, 'minutes');
  checkRange('sessionAbsoluteHours', policy.sessionAbsoluteHours, MIN_ABSOLUTE_HOURS, absoluteHoursMax, 'hours');
  const now = ctx.clock.now();
  const members = await withTenant(ctx.db.app, orgId, async (tx) => {
    const { rows } = await tx.query<PolicyRow>('SELECT require_mfa, session_idle_minutes, session_absolute_hours FROM organizations WHERE id = $1 FOR UPDATE', [orgId]);
    const before = toPolicy(rows[0]!, ctx.config);
    // Like GitHub: whoever requires MFA has it, or they would lock themselves into enrollment.
    if (policy.requireMfa && !before.requireMfa && (await mfaMethods(tx, userId)).length === 0) {
      throw new AppError('conflict', 'Set up two-factor authentication for your own account before requiring it.');
    }
    await tx.query('UPDATE organizations SET require_mfa = $2, session_idle_minutes = $3, session_absolute_hours = $4 WHERE id = $1', [
      orgId, policy.requireMfa, policy.sessionIdleMinutes, policy.sessionAbsoluteHours,
    ]);
    if (JSON.stringify(before) !== JSON.stringify(policy)) {
      await recordAuditEvent(tx, orgId, actor, { action: 'security_policy.changed', target: { type: 'organization', id: orgId }, data: { before, after: policy } }, now);
    }
    const { rows: users } = await tx.query<{ user_id: string }>('SELECT user_id FROM memberships WHERE org_id = $1', [orgId]);
    return users.map((u) => u.user_id);
  });
  // After commit: each user's policy is read across all their organizations.
  for (const userId of members) await applyPolicyToSessions(ctx.db.app, ctx.config, userId);
  return getSecurityPolicy(ctx, orgId);
}

/** Brings the sessions of a user in line with the policies of all their organizations. */
async function applyPolicyToSessions(pool: pg.Pool, config: Config, userId: string): Promise<void> {
  const { idleMs, absoluteMs } = await sessionPolicyFor(pool, config, userId);
  await pool.query(
    'UPDATE sessions SET idle_ms = $2, expires_at = least(expires_at, created_at + make_interval(secs => $3::float8 / 1000)) WHERE user_id = $1',
    [userId, idleMs, absoluteMs],
  );
  if ((await mfaMethods(pool, userId)).length > 0) return;
  // No second factor: full sessions go to enrollment while an organization requires MFA, and come back when none does.
  const [from, to] = (await mfaRequiredFor(pool, userId)) ? ['done', 'enroll'] : ['enroll', 'done'];
  await pool.query('UPDATE sessions SET stage = $3 WHERE user_id = $1 AND stage = $2', [userId, from, to]);
}
