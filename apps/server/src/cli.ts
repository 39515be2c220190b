import type { ParseArgsConfig } from 'node:util';
import { createApiKey, listApiKeys, revokeApiKey, type ApiKeyView } from './apikeys/service.js';
import { verifyAuditChains } from './audit/service.js';
import type { Context } from './context.js';
import { currentMigration } from './db/migrate.js';
import { withTenant } from './db/tenant.js';
import { AppError } from './errors.js';
import { resetMfa } from './mfa/service.js';
import { findMembership, findOrganizationIdByName, newOrganizationId } from './orgs/service.js';
import { createProject } from './projects/service.js';
import { widgetSnippet } from './widget/assets.js';
import { createOwner } from './setup/service.js';
import { normalizeEmail } from './users/service.js';

export const USAGE = `Usage: parley <command> [options]

  serve                       start Parley (the default)
  migrate                     apply database migrations and exit
  users create --email E --org NAME --password-stdin [--name NAME]
                              create a user as owner of NAME (created if new);
                              the password is read from standard input
  users reset-mfa --email E   remove every second factor of a user who lost them
                              (authenticator app, passkeys, recovery codes) and
                              end all their sessions
  projects create --org NAME --name NAME --domain D [--domain D ...] [--json]
                              create a project and print its key and snippet
  apikeys create --org NAME --email CREATOR --name NAME --scope S [--scope S ...]
                 [--project ID ...] [--ip RANGE ...] [--expires 2027-01-31|90d] [--json]
                              create an API key of NAME acting for CREATOR (a
                              member; never more than their role allows) and
                              print it once; --expires: through that day (UTC)
                              or that many days from now
  apikeys list --org NAME [--json]
                              list the organization's API keys (never the keys)
  apikeys revoke --org NAME --id KEY_ID
                              revoke an API key at once
  audit verify                check every organization's audit hash chain
  help                        show this text

Settings come from the environment; see the README.
`;

/** A mistake in how the command was called: printed without a stack, exit code 2. */
export class CliError extends Error {}

type Values = Record<string, string | string[] | boolean | undefined>;
type Command = { options: ParseArgsConfig['options']; handler: (ctx: Context, values: Values) => Promise<number> };

const out = (line: string) => process.stdout.write(`${line}\n`);

function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new CliError(`--${name} is required.\n\n${USAGE}`);
  return value;
}

async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (then Enter): ');
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk;
    if (process.stdin.isTTY && text.includes('\n')) break;
  }
  return text.replace(/\r?\n$/, '').split(/\r?\n/)[0] ?? '';
}

/** Operator-facing wording for a service error. */
async function explain<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof AppError) throw new CliError(error.detail);
    throw error;
  }
}

async function requireOrganization(ctx: Context, name: string): Promise<string> {
  const orgId = await findOrganizationIdByName(ctx.db.app, name);
  if (!orgId) throw new CliError(`No organization is named "${name}".`);
  return orgId;
}

const DAY_MS = 24 * 3_600_000;

/** `--expires`: a number of days from now (`90d`), a date (the key works through that day, UTC), or an exact date-time. */
function parseExpiry(value: string, now: Date): Date {
  const days = /^(\d{1,4})d$/.exec(value);
  if (days) return new Date(now.getTime() + Number(days[1]) * DAY_MS);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const start = new Date(`${value}T00:00:00.000Z`);
    if (!Number.isNaN(start.getTime()) && start.toISOString().startsWith(value)) return new Date(start.getTime() + DAY_MS);
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))) {
    return new Date(value);
  }
  throw new CliError(`--expires takes a number of days (90d) or a date (2027-01-31: the key works through that day, UTC); "${value}" is neither.`);
}

const list = (values: Values, name: string) => (values[name] as string[] | undefined) ?? [];
const when = (date: Date | null, otherwise: string) => date?.toISOString() ?? otherwise;

function describeKey(key: ApiKeyView): string[] {
  return [
    `${key.id}  ${key.status}${key.revokedReason ? ` (${key.revokedReason})` : ''}  ${key.prefix}…  "${key.name}"`,
    `    scopes: ${key.scopes.join(', ')}`,
    `    projects: ${key.projectIds?.join(', ') ?? "all of the creator's"}; addresses: ${key.allowedIps.join(', ') || 'any'}`,
    `    created ${key.createdAt.toISOString()} by ${key.createdBy?.email ?? '(deleted account)'}; expires ${when(key.expiresAt, 'never')}; last used ${key.lastUsedAt ? `${key.lastUsedAt.toISOString()} from ${key.lastUsedIp}` : 'never'}`,
  ];
}

export const cliCommands: Record<string, Command> = {
  migrate: {
    options: {},
    handler: async (ctx) => {
      out(`database schema is at version ${await currentMigration(ctx.db.app)}`);
      return 0;
    },
  },

  'users create': {
    options: { email: { type: 'string' }, org: { type: 'string' }, name: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
    handler: async (ctx, values) => {
      const email = required(values, 'email');
      const org = required(values, 'org');
      if (!values['password-stdin']) throw new CliError('Pass --password-stdin and give the password on standard input (never as an argument: it would be visible in the process list and shell history).');
      const password = await readPasswordFromStdin();
      const existing = await findOrganizationIdByName(ctx.db.app, org);
      const orgId = existing ?? newOrganizationId();
      const name = typeof values.name === 'string' ? values.name : email.split('@')[0]!;
      const user = await explain(
        withTenant(ctx.db.app, orgId, (tx) =>
          createOwner(tx, ctx.keyring, orgId, existing ? null : org, { email, name, password }, () => ({ type: 'cli', label: 'parley users create' }), ctx.clock.now()),
        ),
      );
      out(`created ${user.email} as owner of "${org}"${existing ? '' : ' (new organization)'}`);
      return 0;
    },
  },

  'users reset-mfa': {
    options: { email: { type: 'string' } },
    handler: async (ctx, values) => {
      const email = required(values, 'email');
      const reset = await resetMfa(ctx, email, { type: 'cli', label: 'parley users reset-mfa' });
      if (!reset) throw new CliError(`No account has the e-mail "${email}".`);
      const { totp, passkeys, recoveryCodes, sessions } = reset.removed;
      out(`reset MFA of ${reset.email}: removed ${totp ? 'the authenticator app' : 'no authenticator app'}, ${passkeys} passkey(s), ${recoveryCodes} unused recovery code(s); ended ${sessions} session(s)`);
      out('The user signs in with the password and sets up a second factor again; they were told by e-mail.');
      return 0;
    },
  },

  'projects create': {
    options: { org: { type: 'string' }, name: { type: 'string' }, domain: { type: 'string', multiple: true }, json: { type: 'boolean' } },
    handler: async (ctx, values) => {
      const orgId = await requireOrganization(ctx, required(values, 'org'));
      const domains = (values.domain as string[] | undefined) ?? [];
      if (domains.length === 0) throw new CliError('Give at least one --domain: the sites allowed to show the widget (e.g. --domain example.com).');
      const project = await explain(createProject(ctx.db.app, orgId, { name: required(values, 'name'), domains }, { type: 'cli', label: 'parley projects create' }, ctx.clock.now()));
      const snippet = widgetSnippet(ctx.config.publicUrl, project.key);
      if (values.json) {
        out(JSON.stringify({ id: project.id, key: project.key, name: project.name, domains: project.domains, snippet }));
      } else {
        out(`created project "${project.name}" (${project.id})`);
        out(`key:     ${project.key}`);
        out(`domains: ${project.domains.join(', ')}`);
        out('Paste this into your pages:');
        out(`  ${snippet}`);
      }
      return 0;
    },
  },

  'apikeys create': {
    options: {
      org: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, scope: { type: 'string', multiple: true },
      project: { type: 'string', multiple: true }, ip: { type: 'string', multiple: true }, expires: { type: 'string' }, json: { type: 'boolean' },
    },
    handler: async (ctx, values) => {
      const org = required(values, 'org');
      const orgId = await requireOrganization(ctx, org);
      const email = normalizeEmail(required(values, 'email'));
      const name = required(values, 'name');
      const scopes = list(values, 'scope');
      if (scopes.length === 0) throw new CliError('Give at least one --scope (see docs/permissions.md), e.g. --scope feedback_read.');
      const { rows } = await ctx.db.app.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]);
      const member = rows[0] && (await findMembership(ctx.db.app, rows[0].id, orgId));
      if (!rows[0] || !member) throw new CliError(`No member of "${org}" has the e-mail "${email}": a key acts for a member of its organization.`);
      const now = ctx.clock.now();
      const projects = list(values, 'project');
      const input = {
        name, scopes, projectIds: projects.length > 0 ? projects : null, allowedIps: list(values, 'ip'),
        expiresAt: typeof values.expires === 'string' ? parseExpiry(values.expires, now) : null,
      };
      const creator = { userId: rows[0].id, actor: { type: 'cli' as const, label: 'parley apikeys create' } };
      const { key, token } = await explain(createApiKey(ctx.db.app, ctx.keyring, orgId, creator, input, now));
      if (values.json) {
        out(JSON.stringify({ ...key, token }));
      } else {
        for (const line of describeKey(key)) out(line);
        out(`key: ${token}`);
      }
      process.stderr.write('This is the only time the key is shown: store it now in a secret manager. Send it as "Authorization: Bearer <key>".\n');
      return 0;
    },
  },

  'apikeys list': {
    options: { org: { type: 'string' }, json: { type: 'boolean' } },
    handler: async (ctx, values) => {
      const orgId = await requireOrganization(ctx, required(values, 'org'));
      const keys: ApiKeyView[] = [];
      let cursor: string | undefined;
      do {
        const page = await listApiKeys(ctx.db.app, orgId, { cursor, limit: 100 }, ctx.clock.now());
        keys.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      if (values.json) {
        out(JSON.stringify(keys));
      } else {
        for (const key of keys) for (const line of describeKey(key)) out(line);
        out(`${keys.length} API key(s), ${keys.filter((k) => k.status === 'active').length} active`);
      }
      return 0;
    },
  },

  'apikeys revoke': {
    options: { org: { type: 'string' }, id: { type: 'string' } },
    handler: async (ctx, values) => {
      const orgId = await requireOrganization(ctx, required(values, 'org'));
      const id = required(values, 'id');
      await explain(revokeApiKey(ctx.db.app, orgId, id, { type: 'cli', label: 'parley apikeys revoke' }, ctx.clock.now()));
      out(`revoked API key ${id}: it is refused from now on`);
      return 0;
    },
  },

  'audit verify': {
    options: {},
    handler: async (ctx) => {
      const reports = await verifyAuditChains(ctx.db.admin);
      let broken = 0;
      for (const report of reports) {
        if (report.firstBroken) {
          broken++;
          out(`BROKEN  organization ${report.orgId}: event ${report.firstBroken.seq}: ${report.firstBroken.reason}`);
        } else {
          out(`ok      organization ${report.orgId}: ${report.events} events`);
        }
      }
      out(broken ? `${broken} of ${reports.length} chains are broken` : `all ${reports.length} chains verify`);
      return broken ? 1 : 0;
    },
  },
};
