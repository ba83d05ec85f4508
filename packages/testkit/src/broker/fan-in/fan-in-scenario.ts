import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { waitUntil } from '../broker-transport-suite.js';

/** One row of a query against the inbox database. */
type Row = Record<string, unknown>;

/** What {@link runFanInScenario} needs from a broker package's test. */
export interface FanInScenarioOptions {
  /** Messages in all (half from each of the 2 senders). */
  messages: number;
  /** Child scripts (TypeScript, run with tsx and the source condition): {@link runFanInSender} and {@link runFanInConsumer} bodies. */
  senderScript: string;
  consumerScript: string;
  /** Environment of every child (broker URL, queue or stream names). */
  env: Record<string, string>;
  /**
   * Runs SQL on the consumers' shared inbox database (migrated): the
   * scenario creates the `handled (source, id, worker)` table with it, and
   * counts `messagebox_inbox` and `handled` rows.
   */
  query(sql: string): Promise<Row[]>;
  /** True once the broker holds nothing for the consumers (queue empty, no ack pending). */
  drained(): Promise<boolean>;
  /** Start the first consumer alone and wait for it (it creates what the others share, e.g. a durable consumer). */
  firstConsumerAlone?: boolean;
}

/** Resolves when `child` says `text` (IPC); rejects when it exits first, so a crashed child fails the scenario at once. */
const said = (child: ChildProcess, text: string) =>
  new Promise<void>((resolve, reject) => {
    child.on('message', (m) => m === text && resolve());
    child.once('exit', (code, signal) => reject(new Error(`[messagebox] a fan-in child exited (${signal ?? code}) before saying "${text}"`)));
  });
const exited = (child: ChildProcess) => new Promise<unknown>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));

/**
 * The multi-process test every broker package runs: 3 consumer processes
 * feeding one inbox from one queue or durable consumer, 2 sender processes
 * publishing `messages` through their outboxes, the first consumer killed
 * with SIGKILL once a quarter is stored; then every message must be stored
 * once and handled exactly once, and the survivors stop gracefully (exit 0).
 *
 * @example
 * await runFanInScenario({ messages: 10_000, senderScript, consumerScript, env, query, drained: async () => (await depth(queue)) === 0 });
 */
export async function runFanInScenario(options: FanInScenarioOptions): Promise<void> {
  const { messages } = options;
  const children: ChildProcess[] = [];
  const start = (script: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, ['--conditions=@messagebox/source', '--import', 'tsx', script], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...options.env, ...env },
    });
    children.push(child);
    return child;
  };
  const count = async (sql: string) => Number((await options.query(sql))[0]!['n']);
  const stored = () => count('select count(*) as n from messagebox_inbox');
  const handled = () => count('select count(*) as n from handled');
  try {
    await options.query('create table handled (source varchar(255), id varchar(255), worker varchar(32))');
    const consumers: ChildProcess[] = [];
    const ready: Promise<void>[] = [];
    for (const worker of ['c0', 'c1', 'c2']) {
      const consumer = start(options.consumerScript, { MB_WORKER: worker });
      consumers.push(consumer);
      ready.push(said(consumer, 'ready'));
      if (options.firstConsumerAlone) await ready[0];
    }
    await Promise.all(ready);
    const senders = ['s0', 's1'].map((source) => start(options.senderScript, { MB_COUNT: String(messages / 2), MB_SOURCE: source }));
    const sent = Promise.all(senders.map((s) => said(s, 'done')));

    await waitUntil(async () => (await stored()) >= messages / 4, 'a quarter of the messages stored', 240_000);
    const victim = consumers[0]!;
    victim.kill('SIGKILL');
    expect(await exited(victim)).toBe('SIGKILL');

    await sent;
    await waitUntil(async () => (await stored()) === messages && (await handled()) >= messages, 'every message stored and handled', 240_000);
    await waitUntil(options.drained, 'the broker to hold nothing more for the consumers', 120_000);
    for (const c of consumers.slice(1)) {
      const gone = exited(c);
      c.send('stop');
      expect(await gone).toBe(0);
    }

    const [runs] = await options.query(`select count(*) as runs, count(distinct source || ':' || id) as distinct_ids from handled`);
    expect({ runs: Number(runs!['runs']), distinct: Number(runs!['distinct_ids']) }).toEqual({ runs: messages, distinct: messages });
    expect(await stored()).toBe(messages);
    const perSource = await options.query('select source, count(*) as n from messagebox_inbox group by source order by source');
    expect(perSource.map((r) => [r['source'], Number(r['n'])])).toEqual([
      ['s0', messages / 2],
      ['s1', messages / 2],
    ]);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
