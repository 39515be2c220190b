// Latency of the feedback list (GET /api/v1/orgs/:orgId/feedback) at 100,000
// and 1,000,000 feedback rows in one project: no filter, each filter, text
// search (common, middling and rare words, a prefix), combinations and deep
// cursor pages. Rows are seeded in SQL (seconds, not hours of ingestion).
// Prints p50/p95/p99 per query and, with --explain, each query's plan as the
// app role runs it (row-level security on). Asserts no timing. See bench/README.md.
//
//   node bench/api.mjs [--rows 100000,1000000] [--requests 200] [--explain] [--log-level warn]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  assertBuilt, createBenchProject, embeddedSuperuserUrl, freePort, makeDataDir, onCleanup, openBenchProject, parleyEnv, percentile, REPO_ROOT, startParley,
} from './lib.mjs';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000,1000000' },
    requests: { type: 'string', default: '200' },
    explain: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'warn' },
  },
  strict: true,
});
const sizes = flags.rows.split(',').map(Number);
const requests = Number(flags.requests);
// Bounded: a typo must not turn into an hour of seeding.
if (!sizes.every((n, i) => Number.isInteger(n) && n >= 1000 && n <= 5_000_000 && (i === 0 || n > sizes[i - 1])) || !(requests >= 10 && requests <= 5000)) {
  process.stderr.write('--rows must be increasing sizes of 1,000..5,000,000 (comma-separated), --requests 10..5000\n');
  process.exit(2);
}

assertBuilt();
const { listFeedback } = await import(path.join(REPO_ROOT, 'apps/server/dist/feedback/list.js'));

// Words of feedback, most frequent first: a message draws each word with a
// skewed (power-law) chance, so the first are in most messages, the middle
// ones in a few percent, the last in about two in a hundred. Search queries
// below name words of each kind.
const WORDS = `the to and a is it i on not in when page this of for with button checkout works app can after click we error my be have
  but you load slow login mobile does nothing broken screen would like new please from search great love thanks form save at account
  shows again payment dashboard settings an cart out or order fast report export email all still get wrong data time crash link text
  open menu feature list sign up help make issue no way find it's too back other filter user should could there only also dark mode
  design easy hard find option upload image file phone tablet browser firefox chrome safari window close tab scroll update version
  loading spinner forever blank white message notification missing field label password reset code two factor invite team member role
  project widget feedback rating star support chat price plan billing invoice refund subscription cancel trial upgrade downgrade
  currency tax address shipping delivery tracking stock product size color photo review comment reply share print download pdf csv
  excel import sync calendar date timezone language translation german french spanish font layout mobile-friendly responsive
  keyboard shortcut accessibility contrast zoom offline network timeout server slowdown outage status history undo redo draft
  archive delete restore duplicate merge split sort order column table chart graph widget-settings api webhook integration slack
  jira github zapier token permission admin owner viewer audit log security privacy gdpr consent cookie banner tracking analytics
  performance memory battery heat freeze stuck frozen glitch flicker lag jitter typo spelling grammar wording confusing unclear
  intuitive beautiful ugly clean cluttered onboarding tutorial guide docs documentation faq contact phone-number hours weekend`.split(/\s+/).filter(Boolean);
// In one message of 5,003: what a search for something specific finds.
const RARE_WORD = 'kaleidoscope';
const LABELS = [
  ['Bug', 0.3], ['Feature request', 0.15], ['UX', 0.1], ['Mobile', 0.05], ['Billing', 0.03], ['Performance', 0.02], ['Docs', 0.01], ['Onboarding', 0.01],
  ['Search', 0.01], ['Export', 0.01], ['Security', 0.01], ['Accessibility', 0.01], ['Pricing', 0.005], ['Integrations', 0.005], ['API', 0.005],
  ['Translation', 0.005], ['Legal', 0.001], ['Press', 0.001], ['Partnership', 0.001], ['Escalated', 0.0001],
];
const ASSIGNEES = 8;
const CHUNK = 100_000;

const dataDir = makeDataDir();
const port = await freePort();
const env = { ...parleyEnv({ dataDir, port, logLevel: flags['log-level'] }), PARLEY_SESSION_RATE_LIMIT: '1000000' };
let server;
const cleanup = onCleanup(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

try {
  server = await startParley(env);
  const key = await createBenchProject(env);
  const bench = await openBenchProject(server.url, key);
  const db = new pg.Client({ connectionString: embeddedSuperuserUrl(dataDir) });
  await db.connect();
  const fixture = await createFixture(db, bench.orgId);
  const cases = benchCases(bench, fixture);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const results = [];
  let seeded = 0;
  for (const size of sizes) {
    const started = performance.now();
    for (let from = seeded + 1; from <= size; from += CHUNK) await seedChunk(db, bench, fixture, from, Math.min(size, from + CHUNK - 1));
    await db.query('VACUUM ANALYZE feedback');
    await db.query('VACUUM ANALYZE feedback_labels');
    const { rows } = await db.query('SELECT count(*)::int AS n FROM feedback WHERE project_id = $1', [bench.projectId]);
    if (rows[0].n !== size) throw new Error(`expected ${size} rows, found ${rows[0].n}`);
    seeded = size;
    process.stdout.write(`\n${size.toLocaleString('en')} feedback rows in one project (seeded in ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
    const cursor = await deepCursor(db, bench.projectId, size);
    const measure = async (name, url) => {
      const first = await get(url, agent, bench.headers);
      if (first.status !== 200) throw new Error(`${name}: ${first.status} ${first.text.slice(0, 300)}`);
      for (let i = 0; i < 10; i++) await get(url, agent, bench.headers);
      const latencies = [];
      for (let i = 0; i < requests; i++) latencies.push((await get(url, agent, bench.headers)).ms);
      const row = { size, name, items: JSON.parse(first.text).items?.length ?? 1, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) };
      results.push(row);
      process.stdout.write(`  ${name.padEnd(44)} ${String(row.items).padStart(3)} items  p50 ${row.p50.toFixed(1).padStart(6)} ms  p95 ${row.p95.toFixed(1).padStart(6)} ms  p99 ${row.p99.toFixed(1).padStart(6)} ms\n`);
    };
    // What any authenticated request costs here (session, access check, one row): the floor under every figure below.
    await measure('baseline: GET /api/v1/orgs/:orgId', `${server.url}/api/v1/orgs/${bench.orgId}`);
    for (const c of cases) {
      await measure(c.name, `${server.url}/api/v1/orgs/${bench.orgId}/feedback${c.query(cursor)}`);
      if (flags.explain) await explain(embeddedSuperuserUrl(dataDir), bench.orgId, c.filter(cursor));
    }
    // Again at the end: the machine's own drift during the run shows as the difference.
    await measure('baseline again, after the list queries', `${server.url}/api/v1/orgs/${bench.orgId}`);
  }
  agent.destroy();
  await db.end();
  printTable(results);
} finally {
  await cleanup();
}

/** Assignees (members of the organization) and labels; their ids go into the seeded rows. */
async function createFixture(db, orgId) {
  const users = [];
  for (let i = 1; i <= ASSIGNEES + 1; i++) {
    const { rows } = await db.query(
      `INSERT INTO users (id, email, name, created_at) VALUES (gen_random_uuid(), $1, $2, now()) RETURNING id`,
      [`assignee-${i}@example.test`, `Assignee ${i}`],
    );
    await db.query(`INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, 'member', now())`, [orgId, rows[0].id]);
    users.push(rows[0].id);
  }
  const labels = [];
  for (const [name, share] of LABELS) {
    const { rows } = await db.query(`INSERT INTO labels (id, org_id, name, color, created_at, updated_at) VALUES (gen_random_uuid(), $1, $2, '#336699', now(), now()) RETURNING id`, [orgId, name]);
    labels.push({ id: rows[0].id, name, share });
  }
  // The last user is assigned one feedback in a thousand.
  return { users: users.slice(0, ASSIGNEES), rareUser: users[ASSIGNEES], labels, start: new Date() };
}

/**
 * Feedback rows `from`..`to` of the project, with their labels, in one
 * statement. Row n was created (n - 1) × 63 s before the run started (to the
 * millisecond, as the app writes them), so the rows lie in the table in the
 * order they "arrived", as ingestion writes them, newest first: 100,000 rows
 * span the last 73 days, a million the last two years. 30% new, 10% in progress, 50% done, 10% archived; 80% rated;
 * 40% bugs; 40% assigned to one of 8 members (and 0.1% to a ninth); labels
 * each with its own share. Messages of 5 to 24 words from WORDS.
 */
async function seedChunk(db, bench, fixture, from, to) {
  await db.query(
    `WITH inserted AS (
       INSERT INTO feedback (id, org_id, project_id, status, rating, rating_scale, type, message, page_url, locale, created_at, updated_at, assignee_id)
       SELECT gen_random_uuid(), $1, $2,
              CASE WHEN r1 < 0.3 THEN 'new' WHEN r1 < 0.4 THEN 'in_progress' WHEN r1 < 0.9 THEN 'done' ELSE 'archived' END,
              CASE WHEN r2 < 0.8 THEN 1 + floor(r2 / 0.8 * 5)::int END, CASE WHEN r2 < 0.8 THEN 'stars' END,
              CASE WHEN r3 < 0.4 THEN 'bug' WHEN r3 < 0.7 THEN 'idea' WHEN r3 < 0.9 THEN 'praise' ELSE 'other' END,
              message, 'https://example.com/page/' || (g % 100), 'en', at, at,
              CASE WHEN r4 >= 0.999 THEN $6::uuid WHEN r4 >= 0.6 THEN ($5::uuid[])[1 + floor((r4 - 0.6) / 0.399 * array_length($5::uuid[], 1))::int] END
         FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                      date_trunc('milliseconds', $11::timestamptz - (g - 1) * interval '63 seconds') AS at,
                      (SELECT string_agg(($7::text[])[1 + floor(power(random(), 2.5) * array_length($7::text[], 1))::int], ' ')
                         FROM generate_series(1, 5 + g % 20)) || CASE WHEN g % 5003 = 0 THEN ' ' || $8 ELSE '' END AS message
                 FROM generate_series($3::int, $4::int) AS g) AS seed
       RETURNING id, org_id, created_at
     )
     INSERT INTO feedback_labels (org_id, feedback_id, label_id, created_at)
     SELECT i.org_id, i.id, l.id, i.created_at FROM inserted i CROSS JOIN unnest($9::uuid[], $10::float8[]) AS l(id, share)
      -- A draw per (feedback, label): random() alone would be drawn once per label (the planner pushes it down).
      WHERE (hashtext(i.id::text || l.id::text)::float8 + 2147483648) / 4294967296 < l.share`,
    [bench.orgId, bench.projectId, from, to, fixture.users, fixture.rareUser, WORDS, RARE_WORD, fixture.labels.map((l) => l.id), fixture.labels.map((l) => l.share), fixture.start],
  );
}

/** A cursor half-way down the project's feedback: page 20,000 of 25 at a million rows. */
async function deepCursor(db, projectId, size) {
  const { rows } = await db.query('SELECT created_at, id FROM feedback WHERE project_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1', [projectId, Math.floor(size / 2)]);
  return Buffer.from(`${rows[0].created_at.toISOString()}|${rows[0].id}`).toString('base64url');
}

function benchCases(bench, { users, rareUser, labels }) {
  const label = (name) => labels.find((l) => l.name === name).id;
  const daysAgo = (days) => new Date(Date.now() - days * 86_400_000).toISOString();
  const list = [
    ['no filter', {}],
    ['project', { projectId: bench.projectId }],
    ['status=in_progress (10%)', { status: 'in_progress' }],
    ['status=new (30%)', { status: 'new' }],
    ['type=other (10%)', { type: 'other' }],
    ['ratingMin=1&ratingMax=2 (32%)', { ratingMin: 1, ratingMax: 2 }],
    ['label Bug (30%)', { label: label('Bug') }],
    ['label Docs (1%)', { label: label('Docs') }],
    ['label Escalated (0.01%)', { label: label('Escalated') }],
    ['assignee (5%)', { assignee: users[0] }],
    ['assignee (0.1%)', { assignee: rareUser }],
    ['assignee=none (60%)', { assignee: 'none' }],
    ['date range: 30 to 20 days ago', { from: daysAgo(30), to: daysAgo(20) }],
    ['date range: the last week', { from: daysAgo(7) }],
    ['q=checkout (common word)', { q: 'checkout' }],
    ['q=refund (middling word)', { q: 'refund' }],
    [`q=${RARE_WORD} (rare word)`, { q: RARE_WORD }],
    ['q=sub (prefix)', { q: 'sub' }],
    ['q=slow checkout (two words)', { q: 'slow checkout' }],
    ['status=new&type=bug&q=slow', { status: 'new', type: 'bug', q: 'slow' }],
    ['status=new&assignee=none&label UX', { status: 'new', assignee: 'none', label: label('UX') }],
    ['label Bug&q=crash&ratingMax=2', { label: label('Bug'), q: 'crash', ratingMax: 2 }],
    ['deep cursor (half-way)', {}, true],
    ['deep cursor&status=done', { status: 'done' }, true],
    ['deep cursor&label Bug', { label: label('Bug') }, true],
  ];
  return list.map(([name, filter, deep]) => ({
    name,
    filter: (cursor) => ({ ...filter, limit: 25, ...(deep ? { cursor } : {}) }),
    query: (cursor) => `?${new URLSearchParams(Object.entries({ ...filter, ...(deep ? { cursor } : {}) }).map(([k, v]) => [k, String(v)]))}`,
  }));
}

/**
 * The plans of the statements the app runs for `filter` (auto_explain, as
 * notices), run by the app's own code as the app role with the
 * organization's scope set, so row-level security is on as in production.
 */
async function explain(superuserUrl, orgId, filter) {
  const plans = [];
  const pool = new pg.Pool({ connectionString: superuserUrl, max: 1 });
  // What withTenant() needs of a pool: its connections, here with the plans on and the app's role.
  const explaining = {
    async connect() {
      const client = await pool.connect();
      client.on('notice', (notice) => plans.push(notice.message));
      for (const setting of ["LOAD 'auto_explain'", 'SET auto_explain.log_min_duration = 0', 'SET auto_explain.log_analyze = on', 'SET auto_explain.log_buffers = on',
        'SET auto_explain.log_level = notice', `SET ROLE ${pg.escapeIdentifier(env.PARLEY_DB_APP_ROLE ?? 'parley_app')}`]) await client.query(setting);
      return client;
    },
  };
  await listFeedback(explaining, orgId, null, { ...filter, from: filter.from && new Date(filter.from), to: filter.to && new Date(filter.to) });
  await pool.end();
  const shown = plans.filter((plan) => /feedback/.test(plan)).map((plan) => plan.replace(/^duration: [\d.]+ ms\s+plan:\n/, ''));
  process.stdout.write(shown.map((plan) => plan.split('\n').map((line) => `      ${line}`).join('\n')).join('\n      --\n') + '\n');
}

function get(url, agent, headers) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http.get(url, { agent, headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

function printTable(results) {
  const names = [...new Set(results.map((r) => r.name))];
  const header = `| query | ${sizes.map((s) => `${s.toLocaleString('en')} rows p50 / p95 / p99 (ms)`).join(' | ')} |`;
  process.stdout.write(`\n${header}\n| --- | ${sizes.map(() => '---:').join(' | ')} |\n`);
  for (const name of names) {
    const cells = sizes.map((size) => {
      const r = results.find((x) => x.name === name && x.size === size);
      return `${r.p50.toFixed(1)} / ${r.p95.toFixed(1)} / ${r.p99.toFixed(1)}`;
    });
    process.stdout.write(`| ${name} | ${cells.join(' | ')} |\n`);
  }
}
