import { createMemoryInboxStore, createMemoryOutboxStore, createOperations, MessageboxError } from '@messagebox/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, CSRF_HEADER } from '../src/index.js';
import { seedWorld } from './support/seed.js';
import { openSqliteStore, type TestStore } from './support/stores.js';
import { startWorld, TOKEN } from './support/world.js';

describe('createDashboard', () => {
  const operations = createOperations({ outbox: createMemoryOutboxStore(), inbox: createMemoryInboxStore() });

  it('refuses to start without an authorize hook unless told it is on a private network', () => {
    expect(() => createDashboard({ operations })).toThrow(MessageboxError);
    expect(() => createDashboard({ operations })).toThrow(/authorize\(request\)/);
    expect(() => createDashboard({ operations, authorize: 'yes' as never })).toThrow(/authorize must be a function/);
    expect(() => createDashboard({ operations: {} as never, privateNetwork: true })).toThrow(/needs `operations`/);
    expect(() => createDashboard({ operations, privateNetwork: true, pollMs: 10 })).toThrow(/pollMs/);
    expect(createDashboard({ operations, privateNetwork: true }).fetch).toBeTypeOf('function');
  });

  it('lets the authorize hook answer with a Response of its own', async () => {
    const app = createDashboard({ operations, authorize: () => new Response('who are you?', { status: 401, headers: { 'www-authenticate': 'Basic realm="ops"' } }) });
    const response = await app.request('/api/overview');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="ops"');
  });

  it('answers 500 without details when the store fails, and hands the error to onError', async () => {
    const outbox = createMemoryOutboxStore();
    const failing = createOperations({ outbox: { ...outbox, overview: async () => { throw new Error('connection to db-7.internal lost'); } } });
    const seen: unknown[] = [];
    const app = createDashboard({ operations: failing, privateNetwork: true, onError: (error) => seen.push(error) });
    const response = await app.request('/api/overview');
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('db-7.internal');
    expect(String(seen[0])).toContain('db-7.internal');
  });

  it('answers 500 without details when authorize throws', async () => {
    const app = createDashboard({ operations, authorize: () => { throw new Error('ldap down: secret-host'); } });
    const response = await app.request('/api/overview');
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('secret-host');
  });
});

describe('the dashboard API over HTTP on SQLite', () => {
  let store: TestStore;
  let world: Awaited<ReturnType<typeof startWorld>>;
  let readOnly: Awaited<ReturnType<typeof startWorld>>;
  let seeded: Awaited<ReturnType<typeof seedWorld>>;
  const auth = { authorization: TOKEN };

  /** A session as the page gets it: the CSRF cookie and the token to echo in a header. */
  async function session(url: string) {
    const response = await fetch(`${url}api/session`, { headers: auth });
    const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await response.json()) as { csrfToken: string };
    return { cookie, csrfToken };
  }
  const post = (url: string, path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${url}api/${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    store = await openSqliteStore();
    seeded = await seedWorld(store.outbox, store.inbox);
    world = await startWorld(store);
    readOnly = await startWorld(store, { readOnly: true });
  });
  afterAll(async () => {
    await world?.close();
    await readOnly?.close();
    await store?.close();
  });

  it('refuses every route without authorisation', async () => {
    for (const path of ['', 'api/session', 'api/overview', 'api/dead', `api/message?side=outbox&id=${seeded.hostile.id}`]) {
      const response = await fetch(world.url + path, { headers: { authorization: 'Bearer wrong' } });
      expect(response.status, path).toBe(401);
      expect(await response.text()).not.toContain(seeded.hostile.id);
    }
    expect((await post(world.url, 'replay', { all: true }, { authorization: '' })).status).toBe(401);
    expect((await world.operations.countDead()).total).toBe(4);
  });

  it('serves the page with a CSP that allows only its own script and style', async () => {
    const response = await fetch(world.url, { headers: auth });
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("default-src 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(await response.text()).toContain('<h2 id="dead-title">Dead letters</h2>');
    expect((await fetch(world.url.replace(/\/$/, ''), { headers: auth })).status).toBe(200);
  });

  it('refuses state-changing requests without the CSRF token, from another site or another origin', async () => {
    const { cookie, csrfToken } = await session(world.url);
    const attempts: Array<Record<string, string>> = [
      {},
      { cookie },
      { [CSRF_HEADER]: csrfToken },
      { cookie, [CSRF_HEADER]: 'x'.repeat(csrfToken.length) },
      { cookie, [CSRF_HEADER]: csrfToken, 'sec-fetch-site': 'cross-site' },
      { cookie, [CSRF_HEADER]: csrfToken, origin: 'http://evil.example' },
    ];
    for (const headers of attempts) {
      const response = await post(world.url, 'replay', { all: true }, headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('csrf');
    }
    expect((await world.operations.countDead()).total).toBe(4);
  });

  it('is read-only when told so: writes answer 403 and change nothing', async () => {
    const { cookie, csrfToken } = await session(readOnly.url);
    expect(((await (await fetch(`${readOnly.url}api/session`, { headers: auth })).json()) as { readOnly: boolean }).readOnly).toBe(true);
    for (const [path, body] of [['replay', { all: true }], ['purge', { olderThan: '0s' }]] as const) {
      const response = await post(readOnly.url, path, body, { cookie, [CSRF_HEADER]: csrfToken, origin: readOnly.origin });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('read_only');
    }
    expect((await world.operations.countDead()).total).toBe(4);
    expect((await world.operations.status()).outbox?.sent).toBe(4);
  });

  it('answers bad input with a clear 400 and changes nothing', async () => {
    const { cookie, csrfToken } = await session(world.url);
    const headers = { cookie, [CSRF_HEADER]: csrfToken, origin: world.origin };
    const bad: Array<[string, Promise<Response>, RegExp]> = [
      ['older than', fetch(`${world.url}api/dead?olderThan=soon`, { headers: auth }), /not a duration/],
      ['cursor', fetch(`${world.url}api/dead?after=bm9wZQ`, { headers: auth }), /cursor/],
      ['limit', fetch(`${world.url}api/dead?limit=100000`, { headers: auth }), /limit must be/],
      ['side', fetch(`${world.url}api/dead?side=sideways`, { headers: auth }), /side must be/],
      ['message id', fetch(`${world.url}api/message?side=outbox`, { headers: auth }), /id is required/],
      ['not JSON', post(world.url, 'replay', '{nope', headers), /not valid JSON/],
      ['no filter', post(world.url, 'replay', { filter: {} }, headers), /all: true/],
      ['selection', post(world.url, 'replay', { messages: [{ side: 'inbox', id: 'x' }] }, headers), /needs its source/],
      ['purge age', post(world.url, 'purge', {}, headers), /olderThan is required/],
    ];
    for (const [what, answer, message] of bad) {
      const response = await answer;
      expect(response.status, what).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message, what).toMatch(message);
    }
    expect((await world.operations.countDead()).total).toBe(4);
    const missing = await fetch(`${world.url}api/message?side=outbox&id=nope`, { headers: auth });
    expect(missing.status).toBe(404);
  });

  it('pages dead letters with a keyset cursor, counts them, and replays a selection by (source, id)', async () => {
    const first = (await (await fetch(`${world.url}api/dead?side=outbox&limit=2`, { headers: auth })).json()) as { messages: Array<{ id: string }>; next: string; matching: number };
    expect(first.matching).toBe(3);
    expect(first.messages).toHaveLength(2);
    const second = (await (await fetch(`${world.url}api/dead?side=outbox&limit=2&after=${first.next}`, { headers: auth })).json()) as { messages: Array<{ id: string }>; next: string | null };
    expect(second.next).toBeNull();
    const ids = [...first.messages, ...second.messages].map((m) => m.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids).toContain(seeded.hostile.id);

    const count = (await (await fetch(`${world.url}api/dead/count?error=${encodeURIComponent('HTTP 503')}`, { headers: auth })).json()) as { total: number };
    expect(count.total).toBe(2);

    const { cookie, csrfToken } = await session(world.url);
    const response = await post(world.url, 'replay', { messages: [{ side: 'inbox', id: seeded.deadInbox.id, source: 'billing' }, { side: 'outbox', id: seeded.hostile.id }] }, { cookie, [CSRF_HEADER]: csrfToken, origin: world.origin });
    expect(await response.json()).toEqual({ outbox: 1, inbox: 1, total: 2 });
    expect((await store.inbox.get(seeded.deadInbox))?.status).toBe('received');
    expect((await store.outbox.get(seeded.hostile.id))?.status).toBe('pending');
  });

  it('purges finished rows older than an age, keeping dead ones', async () => {
    const { cookie, csrfToken } = await session(world.url);
    const before = await world.operations.status();
    const response = await post(world.url, 'purge', { olderThan: '0s', side: 'outbox' }, { cookie, [CSRF_HEADER]: csrfToken });
    const report = (await response.json()) as { outbox: number; total: number };
    expect(report.outbox).toBe(before.outbox!.sent);
    const after = await world.operations.status();
    expect(after.outbox?.sent).toBe(0);
    expect(after.outbox?.dead).toBe(before.outbox!.dead);
    expect(after.inbox?.processed).toBe(before.inbox!.processed);
  });
});
