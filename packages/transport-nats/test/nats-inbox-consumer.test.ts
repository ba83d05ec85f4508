import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInbox, createMemoryInboxStore, createMessage, MessageboxError, type Inbox, type Message } from '@messagebox/core';
import { createSqliteStorage } from '@messagebox/sqlite';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createNatsInboxConsumer, createNatsTransport, type NatsInboxConsumer, type NatsInboxConsumerEventMap } from '../src/index.js';
import { createTestStream, NATS_URL, probeNats, startNatsProxy, uniqueName, waitFor, type TestStream } from './support/nats.js';

const reachable = await probeNats();
const dir = mkdtempSync(join(tmpdir(), 'messagebox-nats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = fileURLToPath(new URL('./fixtures/store-then-hang.ts', import.meta.url));

function message(type: string, payload: Message['payload'], source = 'vault'): Message {
  return createMessage({ type, payload, source }, { now: new Date() });
}

describe.runIf(reachable)('transport-nats: createNatsInboxConsumer against the real server', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function stream(): Promise<TestStream> {
    const s = await createTestStream();
    cleanups.push(() => s.drop());
    return s;
  }
  async function publish(s: TestStream, messages: readonly Message[]): Promise<number[]> {
    const t = createNatsTransport({ servers: NATS_URL, subject: (m) => `${s.prefix}.in.${m.type}` });
    try {
      const outcomes = await t.sendBatch(messages, { attempts: messages.map(() => 1) });
      return outcomes.map((o) => (o.delivered ? o.ack.seq : expect.fail(String(o.error))));
    } finally {
      await t.close();
    }
  }
  function consumer(s: TestStream, inbox: Pick<Inbox<unknown>, 'receive'>, options: Partial<Parameters<typeof createNatsInboxConsumer>[0]> = {}) {
    const c = createNatsInboxConsumer({ servers: NATS_URL, stream: s.name, durable: options.durable ?? 'ledger', filterSubject: `${s.prefix}.in.>`, inbox, ...options });
    cleanups.push(() => c.stop({ timeoutMs: 5_000 }));
    return c;
  }
  function record<K extends keyof NatsInboxConsumerEventMap>(c: NatsInboxConsumer, name: K): NatsInboxConsumerEventMap[K][] {
    const seen: NatsInboxConsumerEventMap[K][] = [];
    c.events.on(name, (event) => void seen.push(event));
    return seen;
  }

  it('stores every message once and acks it only after the store resolved; two consumer processes share one durable', async () => {
    const s = await stream();
    const store = createMemoryInboxStore();
    const inbox = createInbox({ store, unknownTypes: 'accept', retention: false });
    const a = consumer(s, inbox, { concurrency: 8 });
    const b = consumer(s, inbox, { concurrency: 8 });
    const ackedA = record(a, 'acked');
    const ackedB = record(b, 'acked');
    await a.start();
    await b.start();
    const sent = Array.from({ length: 300 }, (_, i) => message('order.placed', { i }));
    await publish(s, sent);
    await waitFor(() => ackedA.length + ackedB.length >= 300, '300 acks');
    expect((await store.stats()).received).toBe(300);
    expect(new Set([...ackedA, ...ackedB].map((e) => e.message.id))).toEqual(new Set(sent.map((m) => m.id)));
    await waitFor(async () => (await s.jsm.consumers.info(s.name, 'ledger')).num_ack_pending === 0, 'no ack pending');
    expect((await s.jsm.consumers.info(s.name, 'ledger')).num_pending).toBe(0);
    expect(ackedA.length).toBeGreaterThan(0);
    expect(ackedB.length).toBeGreaterThan(0);
  });

  it('a consumer killed with SIGKILL after storing and before acking: the redelivery is a duplicate the inbox drops, and is acked', { timeout: 120_000 }, async () => {
    const s = await stream();
    const file = join(dir, `${uniqueName()}.db`);
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file, { timeout: 10_000 }) }) });
    cleanups.push(() => db.destroy());
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    const durable = 'killed';
    const ackWaitMs = 2_000;
    const child = fork(fixture, [], {
      execArgv: ['--conditions=@messagebox/source', '--import', 'tsx'],
      env: { ...process.env, MB_DATABASE_FILE: file, MB_NATS_URL: NATS_URL, MB_STREAM: s.name, MB_DURABLE: durable, MB_ACK_WAIT_MS: String(ackWaitMs) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    cleanups.push(async () => void child.kill('SIGKILL'));
    const reports: { ready?: boolean; stored?: string; status?: string }[] = [];
    child.on('message', (m) => void reports.push(m as never));
    await waitFor(() => reports.some((r) => r.ready), 'the child consumer to start');
    const sent = message('order.placed', { n: 1 });
    await publish(s, [sent]);
    await waitFor(() => reports.some((r) => r.stored === sent.id), 'the child to store the message');
    expect(reports.find((r) => r.stored)).toMatchObject({ stored: sent.id, status: 'created' });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const inbox = createInbox({ store: storage.inbox, unknownTypes: 'accept', retention: false });
    const survivor = consumer(s, inbox, { durable, ackWaitMs });
    const acked = record(survivor, 'acked');
    await survivor.start();
    await waitFor(() => acked.length === 1, 'the redelivery to be acked');
    expect(acked[0]).toMatchObject({ status: 'duplicate', message: { id: sent.id } });
    expect(await storage.inbox.stats()).toMatchObject({ received: 1 });
    await waitFor(async () => (await s.jsm.consumers.info(s.name, durable)).num_ack_pending === 0, 'no ack pending');
  });

  it('terminates messages that can never be stored, with their reason, into the dead-letter subject; stores the good ones', { timeout: 90_000 }, async () => {
    const s = await stream();
    const inbox = createInbox({ store: createMemoryInboxStore(), retention: false }).on('order.placed', async () => {});
    const c = consumer(s, inbox, { deadLetterSubject: `${s.prefix}.dead` });
    const terminated = record(c, 'terminated');
    const acked = record(c, 'acked');
    const failed = record(c, 'failed');
    await c.start();

    const js = jetstream(s.nc);
    await publish(s, [message('order.placed', { ok: 1 })]);
    const noHeaders = await js.publish(`${s.prefix}.in.raw`, '{"a":1}');
    const h = natsHeaders();
    for (const [k, v] of Object.entries({ 'Messagebox-Id': 'm-1', 'Messagebox-Type': 'order.placed', 'Messagebox-Source': 'vault', 'Messagebox-Timestamp': new Date().toISOString() })) h.set(k, v);
    const notJson = await js.publish(`${s.prefix}.in.bad`, 'not json', { headers: h });
    const [unknown] = await publish(s, [message('order.unknown', { x: 1 })]);

    await waitFor(() => terminated.length === 3 && acked.length === 1, 'three terminated and one stored');
    const bySeq = new Map(terminated.map((t) => [t.sequence, t]));
    expect(bySeq.get(noHeaders.seq)).toMatchObject({ code: 'invalid_message', deadLettered: true, reason: expect.stringMatching(/no Messagebox-Id header/) });
    expect(bySeq.get(notJson.seq)).toMatchObject({ code: 'invalid_payload', reason: expect.stringMatching(/not JSON/) });
    expect(bySeq.get(unknown!)).toMatchObject({ code: 'unknown_type', reason: expect.stringMatching(/order\.unknown/) });
    await waitFor(async () => {
      const info = await s.jsm.consumers.info(s.name, 'ledger');
      return info.num_ack_pending === 0 && info.ack_floor.stream_seq >= unknown!;
    }, 'the server to count all four as done (terminated ones are never redelivered)');
    expect(failed).toEqual([]);

    const all = await Promise.all(Array.from({ length: 7 }, async (_, i) => (await s.jsm.streams.getMessage(s.name, { seq: i + 1 }))!));
    const dead = all.filter((m) => m.subject === `${s.prefix}.dead`);
    expect(dead).toHaveLength(3);
    const deadBySeq = new Map(dead.map((d) => [Number(d.header.get('Messagebox-Dead-Sequence')), d]));
    expect(deadBySeq.get(notJson.seq)!.header.get('Messagebox-Dead-Code')).toBe('invalid_payload');
    expect(deadBySeq.get(notJson.seq)!.header.get('Messagebox-Dead-Reason')).toMatch(/not JSON/);
    expect(deadBySeq.get(notJson.seq)!.string()).toBe('not json');
    expect(deadBySeq.get(notJson.seq)!.header.get('Messagebox-Id')).toBe('m-1');
    expect(deadBySeq.get(unknown!)!.header.get('Messagebox-Dead-Subject')).toBe(`${s.prefix}.in.order.unknown`);
  });

  it('connections dropped mid-run: the client reconnects, the consumer pulls again, every message is stored once', { timeout: 120_000 }, async () => {
    const s = await stream();
    const proxy = await startNatsProxy();
    cleanups.push(() => proxy.close());
    const store = createMemoryInboxStore();
    const inbox = createInbox({ store, unknownTypes: 'accept', retention: false });
    const c = consumer(s, inbox, { servers: proxy.url, connectOptions: { reconnectTimeWait: 100 }, concurrency: 8, ackWaitMs: 3_000 });
    const acked = record(c, 'acked');
    await c.start();
    const sent = Array.from({ length: 200 }, (_, i) => message('order.placed', { i }));
    await publish(s, sent);
    for (let drops = 0; drops < 3; drops++) {
      const before = acked.length;
      await waitFor(() => acked.length > before || acked.length >= 200, 'progress before the next drop');
      proxy.drop();
    }
    await waitFor(async () => (await store.stats()).received === 200, 'all 200 stored', 90_000);
    await waitFor(async () => (await s.jsm.consumers.info(s.name, 'ledger')).num_ack_pending === 0, 'every message acked', 90_000);
    expect((await store.stats()).received).toBe(200);
    expect(new Set(acked.map((e) => e.message.id))).toEqual(new Set(sent.map((m) => m.id)));
  });

  it('a store failure naks with a delay and the message is stored on a later delivery', async () => {
    const s = await stream();
    const store = createMemoryInboxStore();
    const real = createInbox({ store, unknownTypes: 'accept', retention: false });
    let failuresLeft = 2;
    const c = consumer(s, {
      receive: async (m) => {
        if (failuresLeft-- > 0) throw new Error('database is down');
        return real.receive(m);
      },
    }, { retry: { initialDelayMs: 50, maxDelayMs: 200 } });
    const failed = record(c, 'failed');
    const acked = record(c, 'acked');
    await c.start();
    const sent = message('order.placed', { n: 1 });
    await publish(s, [sent]);
    await waitFor(() => acked.length === 1, 'the message stored after two failures');
    expect(failed.map((f) => f.error)).toEqual(['database is down', 'database is down']);
    expect(failed.every((f) => f.delayMs > 0)).toBe(true);
    expect(acked[0]).toMatchObject({ status: 'created', message: { id: sent.id } });
    expect((await store.stats()).received).toBe(1);
  });

  it('stop() stops pulling, lets in-flight stores finish and ack, and leaves the rest for the next consumer', { timeout: 90_000 }, async () => {
    const s = await stream();
    const store = createMemoryInboxStore();
    const real = createInbox({ store, unknownTypes: 'accept', retention: false });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const c = createNatsInboxConsumer({
      servers: NATS_URL, stream: s.name, durable: 'ledger', filterSubject: `${s.prefix}.in.>`, concurrency: 4,
      inbox: { receive: async (m) => { started++; await gate; return real.receive(m); } },
    });
    const acked = record(c, 'acked');
    await c.start();
    await publish(s, Array.from({ length: 20 }, (_, i) => message('order.placed', { i })));
    await waitFor(() => started === 4, 'four receives in flight');
    const stopping = c.stop({ timeoutMs: 30_000 });
    release();
    expect(await stopping).toBe(true);
    expect(acked).toHaveLength(4);
    expect(started).toBe(4);
    expect((await store.stats()).received).toBe(4);

    const next = consumer(s, real);
    const nextAcked = record(next, 'acked');
    await next.start();
    await waitFor(() => nextAcked.length >= 16, 'the other 16 taken by the next consumer', 90_000);
    expect(nextAcked.filter((e) => e.status === 'created')).toHaveLength(16);
    expect((await store.stats()).received).toBe(20);
  });

  it('start() creates the durable consumer (explicit ack) and updates max_ack_pending and ack_wait of an existing one', async () => {
    const s = await stream();
    const inbox = createInbox({ store: createMemoryInboxStore(), unknownTypes: 'accept', retention: false });
    const first = createNatsInboxConsumer({ servers: NATS_URL, stream: s.name, durable: 'shared', inbox, maxAckPending: 10, ackWaitMs: 5_000 });
    await first.start();
    expect((await s.jsm.consumers.info(s.name, 'shared')).config).toMatchObject({ ack_policy: 'explicit', max_ack_pending: 10, ack_wait: 5_000_000_000 });
    expect(await first.stop()).toBe(true);
    const second = consumer(s, inbox, { durable: 'shared', filterSubject: undefined, maxAckPending: 20, ackWaitMs: 7_000 });
    await second.start();
    expect((await s.jsm.consumers.info(s.name, 'shared')).config).toMatchObject({ max_ack_pending: 20, ack_wait: 7_000_000_000 });
  });

  it('refuses bad options with invalid_options', () => {
    const inbox = { receive: async () => ({ status: 'created' as const }) };
    expect(() => createNatsInboxConsumer({ servers: NATS_URL, stream: '', durable: 'd', inbox })).toThrow(MessageboxError);
    expect(() => createNatsInboxConsumer({ servers: NATS_URL, stream: 's', durable: 'd', inbox: {} as never })).toThrow(/needs an `inbox`/);
    expect(() => createNatsInboxConsumer({ stream: 's', durable: 'd', inbox })).toThrow(/needs `servers`/);
    expect(() => createNatsInboxConsumer({ servers: NATS_URL, stream: 's', durable: 'd', inbox, concurrency: 0 })).toThrow(/concurrency/);
  });
});
