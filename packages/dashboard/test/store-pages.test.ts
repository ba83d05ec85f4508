import { createOperations } from '@messagebox/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore, openSqliteStore, postgresReachable, type TestStore } from './support/stores.js';

const pgReachable = await postgresReachable();

describe.each([
  ['PostgreSQL', openPostgresStore, pgReachable],
  ['SQLite', openSqliteStore, true],
] as const)('keyset pages of the SQL store on %s', (_name, open, reachable) => {
  let store: TestStore;
  beforeAll(async () => {
    if (reachable) store = await open();
  });
  afterAll(() => store?.close());

  it.runIf(reachable)('walk inbox rows received in the same millisecond with the same id from several sources, each once, in order', async () => {
    const at = Date.now() - 1_000;
    const row = (source: string, id: string, receivedAt: number) => ({
      id,
      source,
      type: 't',
      payload: '{}',
      headers: '{}',
      created_at: receivedAt,
      status: 'dead',
      attempts: 3,
      received_at: receivedAt,
      available_at: receivedAt,
      last_error: 'handler threw',
    });
    const rows = [row('c', 'x', at), row('a', 'x', at), row('b', 'x', at), row('a', 'w', at), row('a', 'y', at), row('z', 'a', at - 1), row('a', 'a', at + 1)];
    await store.db.insertInto(store.inboxTable as never).values(rows as never).execute();
    const ops = createOperations({ inbox: store.inbox });
    const seen: string[] = [];
    let page = await ops.pageDead({ side: 'inbox', limit: 1 });
    for (;;) {
      seen.push(...page.messages.map((m) => `${m.source}/${m.id}`));
      if (!page.next) break;
      page = await ops.pageDead({ side: 'inbox', limit: 1, after: page.next });
    }
    expect(seen).toEqual(['z/a', 'a/w', 'a/x', 'b/x', 'c/x', 'a/y', 'a/a']);
    expect(await ops.countDead({ side: 'inbox' })).toEqual({ outbox: 0, inbox: 7, total: 7 });
    expect(await ops.countDead({ side: 'inbox', olderThanMs: 0, source: 'a' })).toEqual({ outbox: 0, inbox: 4, total: 4 });
    const overview = await ops.overview();
    expect(overview.inbox).toMatchObject({ dead: 7, waiting: 0, finished: 0, types: [{ type: 't', dead: 7 }] });
  });
});
