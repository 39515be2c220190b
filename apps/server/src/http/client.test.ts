import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createClient, ifMatch, isApiError } from '../../../../packages/client/src/index.js';
import { apiKey, countRows, ownerAccount, PASSWORD, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';

// packages/client against the live server: typed calls with an API key or a
// session, problems as ApiError, Idempotency-Key, If-Match, re-authentication.

let server: TestServer;
let owner: Account;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  token = (await apiKey(server, owner)).token;
});
afterAll(() => server.close());

/** A fetch that records every request it passes on; `fail` first throws that many times, as a lost connection does. */
function recordingFetch(fail = 0) {
  const requests: { method: string; url: string; headers: Headers; body: string | null }[] = [];
  const fetcher: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    requests.push({ method: request.method, url: request.url, headers: request.headers, body: init?.body ? String(init.body) : null });
    if (fail-- > 0) throw new TypeError('fetch failed');
    return fetch(request);
  };
  return { requests, fetcher };
}

describe('createClient with an API key', () => {
  it('sends the key as Bearer and answers with the typed body', async () => {
    const { requests, fetcher } = recordingFetch();
    const client = createClient({ baseUrl: server.url, apiKey: token, fetch: fetcher });
    const org = await client.get('/api/v1/orgs/{orgId}', { path: { orgId: owner.orgId } });
    expect(org.id).toBe(owner.orgId);
    expect(new Date(org.createdAt).getTime()).not.toBeNaN();
    expect(requests[0]!.headers.get('authorization')).toBe(`Bearer ${token}`);
    expect(requests[0]!.headers.get('idempotency-key')).toBeNull();
    const { items } = await client.get('/api/v1/orgs');
    expect(items).toEqual([{ id: owner.orgId, name: org.name, role: 'owner' }]);
  });

  it('throws an ApiError with the problem code, status and detail', async () => {
    const narrow = (await apiKey(server, owner, { scopes: ['org_read'] })).token;
    const client = createClient({ baseUrl: server.url, apiKey: narrow });
    const error = await client.get('/api/v1/orgs/{orgId}/members', { path: { orgId: owner.orgId } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 403, code: 'forbidden', detail: 'This API key does not have the members_read scope.' });
    expect(isApiError(error, 'forbidden')).toBe(true);
    const other = await client.get('/api/v1/orgs/{orgId}', { path: { orgId: '00000000-0000-4000-8000-000000000000' } }).catch((e: unknown) => e);
    expect(other).toMatchObject({ status: 404, code: 'not_found' });
    const invalid = await createClient({ baseUrl: server.url, apiKey: 'prl_not-a-key' }).get('/api/v1/orgs').catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 401, code: 'api_key_invalid' });
  });

  it('sends a new Idempotency-Key with each POST, and the given one when asked', async () => {
    const { requests, fetcher } = recordingFetch();
    const client = createClient({ baseUrl: server.url, apiKey: token, fetch: fetcher });
    const create = (idempotencyKey?: string) =>
      client.post('/api/v1/orgs/{orgId}/projects', { path: { orgId: owner.orgId }, body: { name: 'Client', domains: ['client.example'] }, idempotencyKey });
    const before = await countRows(server, 'projects');
    const [a, b] = [await create(), await create()];
    expect(a.id).not.toBe(b.id);
    const [c, d] = [await create('retry-1'), await create('retry-1')];
    expect(d).toEqual(c);
    expect(await countRows(server, 'projects')).toBe(before + 3);
    const keys = requests.map((r) => r.headers.get('idempotency-key'));
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[1]).not.toBe(keys[0]);
    expect(keys.slice(2)).toEqual(['retry-1', 'retry-1']);
  });

  it('sends a POST whose answer was lost once more with the same key, creating once', async () => {
    const { requests, fetcher } = recordingFetch(1);
    const client = createClient({ baseUrl: server.url, apiKey: token, fetch: fetcher });
    const before = await countRows(server, 'projects');
    await client.post('/api/v1/orgs/{orgId}/projects', { path: { orgId: owner.orgId }, body: { name: 'Lost answer', domains: ['lost.example'] } });
    expect(requests).toHaveLength(2);
    expect(requests[1]!.headers.get('idempotency-key')).toBe(requests[0]!.headers.get('idempotency-key'));
    expect(await countRows(server, 'projects')).toBe(before + 1);
  });

  it('sends If-Match as a strong ETag, fills and encodes path parameters and repeats array query members', async () => {
    const { requests, fetcher } = recordingFetch();
    const client = createClient({ baseUrl: `${server.url}/`, apiKey: token, fetch: fetcher });
    await client.patch('/api/v1/orgs/{orgId}/members/{userId}', { path: { orgId: owner.orgId, userId: 'a/b?c' }, body: { role: 'viewer' }, ifMatch: 3 }).catch(() => {});
    expect(requests[0]!.url).toBe(`${server.url}/api/v1/orgs/${owner.orgId}/members/a%2Fb%3Fc`);
    expect(requests[0]!.headers.get('if-match')).toBe('"3"');
    expect(requests[0]!.body).toBe('{"role":"viewer"}');
    expect(ifMatch('W/"7"')).toBe('W/"7"');
    expect(client.url('/api/v1/orgs/{orgId}/logins', { path: { orgId: 'x y' }, query: { result: 'failure', before: undefined } })).toBe(`${server.url}/api/v1/orgs/x%20y/logins?result=failure`);
  });

  it('answers network_error when no server answers, after one more try', async () => {
    const { requests, fetcher } = recordingFetch(2);
    const error = await createClient({ baseUrl: server.url, fetch: fetcher }).get('/api/v1/setup').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: 'network_error' });
    expect(requests).toHaveLength(2);
  });
});

describe('createClient with a session', () => {
  it('asks onReauthRequired once on 403 reauth_required, then sends the request again and reads a CSV answer', async () => {
    const session = await ownerAccount(server);
    const client = createClient({ baseUrl: server.url, headers: { cookie: session.cookie, 'sec-fetch-site': 'same-origin' } });
    server.clock.advance(11 * 60_000);
    let asked = 0;
    const confirming = createClient({
      baseUrl: server.url,
      headers: { cookie: session.cookie, 'sec-fetch-site': 'same-origin' },
      onReauthRequired: async () => {
        asked++;
        await client.post('/api/v1/auth/reauth', { body: { password: PASSWORD } });
        return true;
      },
    });
    const csv = await confirming.get('/api/v1/orgs/{orgId}/logins.csv', { path: { orgId: session.orgId }, query: { result: 'success' } });
    expect(asked).toBe(1);
    expect(csv.split('\n')[0]).toContain('email');

    server.clock.advance(11 * 60_000);
    const declining = createClient({ baseUrl: server.url, headers: { cookie: session.cookie, 'sec-fetch-site': 'same-origin' }, onReauthRequired: async () => false });
    const refused = await declining.get('/api/v1/orgs/{orgId}/logins.csv', { path: { orgId: session.orgId } }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 403, code: 'reauth_required' });
  });

  it('answers undefined for 204', async () => {
    const session = await ownerAccount(server);
    const client = createClient({ baseUrl: server.url, headers: { cookie: session.cookie, 'sec-fetch-site': 'same-origin' } });
    await expect(client.delete('/api/v1/me/sessions')).resolves.toBeUndefined();
  });
});
