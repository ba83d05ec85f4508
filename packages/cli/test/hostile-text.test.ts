import type { Message } from '@messagebox/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createSqliteDatabase, type TestDatabase } from './support/databases.js';

/** Retitles the terminal (OSC 0 … BEL), clears it (CSI 2J, also as the C1 CSI) and reverses what follows (RLO). */
const HOSTILE = '\x1b]0;owned\x07\x1b[2J\x9b3J\u202edesrever\x7f';
/** Anything a terminal could act on, or that reorders text, except the line breaks of the output itself. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * Rows as an older version (or any other writer of the tables) could have
 * stored them: raw control characters in last_error, headers and payload.
 * Whatever the rows hold, `messagebox dead list/show` and `status` print
 * them escaped.
 */
describe('messagebox CLI prints remote text escaped', () => {
  let database: TestDatabase;
  const message = (id: string): Message => ({
    id,
    source: 'shop',
    type: 'order.created',
    payload: { note: HOSTILE },
    headers: { tenant: HOSTILE },
    createdAt: new Date(),
  });
  const lastError = `receiver answered 400: ${HOSTILE}\nsecond line`;
  const cli = (args: string[]) => runCli(args, { env: database.env });

  beforeAll(async () => {
    database = await createSqliteDatabase();
    await database.storage.migrate();
    const { outbox, inbox } = database.storage;
    await outbox.transaction((tx) => outbox.add(tx, [message('out-1')]));
    const [claimedOut] = await outbox.claimDue({ ids: ['out-1'], limit: 1, leaseMs: 60_000, token: 't1' });
    expect(await outbox.markDead(claimedOut!, { error: lastError })).toBe(true);
    await inbox.transaction((tx) => inbox.receive(tx, message('in-1')));
    const [claimedIn] = await inbox.claimDue({ limit: 1, leaseMs: 60_000, token: 't2' });
    expect(await inbox.markDead(claimedIn!, { error: lastError })).toBe(true);
  });

  afterAll(async () => {
    await database?.destroy();
  });

  it('dead list: the table and the JSON', async () => {
    const listed = await cli(['dead', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/2 dead message\(s\)/);
    expect(listed.stdout).toContain('receiver answered 400: \\u001b]0;owned\\u0007\\u001b[2J\\u009b3J\\u202edesrever');
    expect(listed.stdout).not.toMatch(RAW_CONTROL);

    const asJson = await cli(['dead', 'list', '--json']);
    expect(asJson.code).toBe(0);
    expect(asJson.stdout).not.toMatch(RAW_CONTROL);
    const parsed = JSON.parse(asJson.stdout) as Array<{ lastError: string; headers: Record<string, string>; payload: unknown }>;
    expect(parsed.map((m) => [m.lastError, m.headers, m.payload])).toEqual([
      [lastError, { tenant: HOSTILE }, { note: HOSTILE }],
      [lastError, { tenant: HOSTILE }, { note: HOSTILE }],
    ]);
  });

  it('dead show: last error, headers and payload, as text and as JSON', async () => {
    for (const id of ['out-1', 'in-1']) {
      const shown = await cli(['dead', 'show', id]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).not.toMatch(RAW_CONTROL);
      expect(shown.stdout).toMatch(/^last error +receiver answered 400: \\u001b\]0;owned\\u0007.*\\nsecond line$/m);
      expect(shown.stdout).toMatch(/^headers +tenant: \\u001b\]0;owned\\u0007\\u001b\[2J\\u009b3J\\u202edesrever\\u007f$/m);
      expect(shown.stdout).toContain('"note": "\\u001b]0;owned\\u0007\\u001b[2J\\u009b3J\\u202edesrever\\u007f"');

      const asJson = await cli(['dead', 'show', id, '--json']);
      expect(asJson.stdout).not.toMatch(RAW_CONTROL);
      expect(JSON.parse(asJson.stdout)).toMatchObject({ id, lastError, headers: { tenant: HOSTILE }, payload: { note: HOSTILE } });
    }
  });

  it('status: the recent errors', async () => {
    const status = await cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('\\u001b]0;owned');
    expect(status.stdout).not.toMatch(RAW_CONTROL);
  });
});
