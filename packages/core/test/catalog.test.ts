import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createInbox,
  createMemoryInboxStore,
  createMemoryOutboxStore,
  createMessage,
  createOutbox,
  defineMessages,
  isPayloadValidationError,
  MessageboxError,
  payload,
  PayloadValidationError,
  type Message,
  type StandardSchemaV1,
} from '../src/index.js';
import { recordingTransport, silent } from './support.js';

const order = z.object({ id: z.string(), total: z.number().positive() });

function sender<C extends Parameters<typeof defineMessages>[0]>(definitions: C) {
  const catalog = defineMessages(definitions);
  const store = createMemoryOutboxStore();
  const transport = recordingTransport();
  return { catalog, store, transport };
}

async function rejection(promise: Promise<unknown>): Promise<PayloadValidationError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(isPayloadValidationError(error)).toBe(true);
  return error as PayloadValidationError;
}

describe('defineMessages', () => {
  it('lists the types, knows which have a schema, and refuses an entry that is neither a schema nor payload<T>()', () => {
    const catalog = defineMessages({ 'a.v1': order, 'b.v1': payload<{ n: number }>() });
    expect(catalog.types).toEqual(['a.v1', 'b.v1']);
    expect([catalog.has('a.v1'), catalog.has('b.v1'), catalog.has('c')]).toEqual([true, true, false]);
    expect(catalog.schemaOf('a.v1')).toBe(order);
    expect(catalog.schemaOf('b.v1')).toBeUndefined();
    expect(() => defineMessages({ bad: { parse() {} } as never })).toThrow(/"bad" must be a Standard Schema/);
    expect(() => defineMessages({ bad: null as never })).toThrow(MessageboxError);
  });
});

describe('validation at add', () => {
  it('refuses an invalid payload with its issues and writes nothing, also with others in the same addMany', async () => {
    const { catalog, store, transport } = sender({ 'order.created': order });
    const outbox = createOutbox({ store, source: 'shop', catalog, logger: silent }).configure('order.created', { transport });
    const error = await rejection(outbox.transaction((tx) => outbox.add(tx, { type: 'order.created', payload: { id: 'o-1', total: -1 } })));
    expect(error).toBeInstanceOf(MessageboxError);
    expect(error.code).toBe('invalid_payload');
    expect(error.type).toBe('order.created');
    expect(error.issues).toEqual([{ path: ['total'], message: expect.any(String) }]);
    expect(error.message).toMatch(/^\[messagebox\] payload of "order.created" does not match its schema: total: /);
    await rejection(
      outbox.transaction((tx) =>
        outbox.addMany(tx, [
          { type: 'order.created', payload: { id: 'o-2', total: 1 } },
          { type: 'order.created', payload: { id: 3 as never, total: 1 } },
        ]),
      ),
    );
    expect(await store.list()).toEqual([]);
    await outbox.idle();
    expect(transport.delivered).toEqual([]);
  });

  it('stores the schema output (defaults, transforms) and awaits an async schema', async () => {
    const withDefault = z.object({ id: z.string(), currency: z.string().default('EUR') });
    const slow: StandardSchemaV1<{ n: number }, { n: number }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async (value) => {
          await new Promise((resolve) => setImmediate(resolve));
          const n = (value as { n?: unknown })?.n;
          return typeof n === 'number' ? { value: { n } } : { issues: [{ message: 'n must be a number', path: [{ key: 'n' }] }] };
        },
      },
    };
    const { catalog, store, transport } = sender({ 'price.set': withDefault, 'slow.v1': slow });
    const outbox = createOutbox({ store, source: 'shop', catalog, logger: silent }).configure('price.set', { transport }).configure('slow.v1', { transport });
    const message = await outbox.transaction((tx) => outbox.add(tx, { type: 'price.set', payload: { id: 'p-1' } }));
    expect(message.payload).toEqual({ id: 'p-1', currency: 'EUR' });
    expect((await store.get(message.id))?.payload).toEqual({ id: 'p-1', currency: 'EUR' });
    const error = await rejection(outbox.transaction((tx) => outbox.add(tx, { type: 'slow.v1', payload: { n: 'x' as never } })));
    expect(error.issues).toEqual([{ message: 'n must be a number', path: ['n'] }]);
    await outbox.transaction((tx) => outbox.add(tx, { type: 'slow.v1', payload: { n: 1 } }));
    expect((await store.list()).map((row) => row.type).sort()).toEqual(['price.set', 'slow.v1']);
  });

  it('works the same with valibot and arktype schemas', async () => {
    const { catalog, store, transport } = sender({
      'a.v1': v.object({ id: v.string() }),
      'b.v1': type({ id: 'string', n: 'number > 0' }),
    });
    const outbox = createOutbox({ store, source: 'shop', catalog, logger: silent }).configure('a.v1', { transport }).configure('b.v1', { transport });
    expect((await rejection(outbox.transaction((tx) => outbox.add(tx, { type: 'a.v1', payload: { id: 1 as never } })))).issues[0]!.path).toEqual(['id']);
    expect((await rejection(outbox.transaction((tx) => outbox.add(tx, { type: 'b.v1', payload: { id: 'x', n: 0 } })))).issues[0]!.path).toEqual(['n']);
    await outbox.transaction(async (tx) => {
      await outbox.add(tx, { type: 'a.v1', payload: { id: 'a' } });
      await outbox.add(tx, { type: 'b.v1', payload: { id: 'b', n: 2 } });
    });
    expect(await store.list()).toHaveLength(2);
  });

  it('configure refuses a type the catalog does not declare; payload<T>() types are not checked at run time', async () => {
    const { catalog, store, transport } = sender({ 'note.v1': payload<{ text: string }>() });
    const outbox = createOutbox({ store, source: 'shop', catalog, logger: silent });
    expect(() => (outbox as { configure(type: string, route: object): unknown }).configure('note.v2', { transport })).toThrow(/"note.v2" is not in the catalog/);
    const configured = outbox.configure('note.v1', { transport });
    await configured.transaction((tx) => configured.add(tx, { type: 'note.v1', payload: { text: 'hi' } }));
    expect(await store.list()).toHaveLength(1);
  });
});

describe('validation at the inbox', () => {
  const incoming = (type: string, body: unknown) => createMessage({ type, source: 'shop', payload: body as never }, { now: new Date() });

  it('receive refuses an invalid payload with invalid_payload and stores nothing; a valid one is handled with the schema output', async () => {
    const store = createMemoryInboxStore();
    const handled: Message[] = [];
    const catalog = defineMessages({ 'order.created': order.extend({ note: z.string().default('') }) });
    const inbox = createInbox({ store, catalog, logger: silent }).on('order.created', (message) => void handled.push(message));
    const error = await rejection(inbox.receive(incoming('order.created', { id: 'o-1', total: 'ten' })));
    expect(error.issues[0]!.path).toEqual(['total']);
    expect(await store.list()).toEqual([]);
    await inbox.receive(incoming('order.created', { id: 'o-1', total: 10 }));
    await inbox.processDue();
    await inbox.idle();
    expect(handled.map((m) => m.payload)).toEqual([{ id: 'o-1', total: 10, note: '' }]);
  });

  it('on() and onBatch() refuse a type the catalog does not declare', () => {
    const inbox = createInbox({ store: createMemoryInboxStore(), catalog: defineMessages({ 'a.v1': order }), logger: silent }) as unknown as {
      on(type: string, handler: () => void): unknown;
      onBatch(type: string, handler: () => void): unknown;
    };
    expect(() => inbox.on('a.v2', () => {})).toThrow(/"a.v2" is not in the catalog/);
    expect(() => inbox.onBatch('a.v2', () => {})).toThrow(MessageboxError);
  });
});

describe('versioned types: evolving a payload without breaking senders still on the old shape', () => {
  // Way 1: a new type name beside the old one. Old senders keep sending v1;
  // the receiver handles both until no v1 is left, then drops v1.
  const v1 = z.object({ id: z.string(), amount: z.number() });
  const v2 = z.object({ id: z.string(), amount: z.object({ value: z.number(), currency: z.string() }) });

  it('order.created.v2 beside v1: the receiver handles both, each validated by its own schema', async () => {
    const store = createMemoryInboxStore();
    const seen: Array<[string, number, string]> = [];
    const receiver = defineMessages({ 'order.created.v1': v1, 'order.created.v2': v2 });
    const inbox = createInbox({ store, catalog: receiver, logger: silent })
      .on('order.created.v1', (m) => void seen.push([m.type, m.payload.amount, 'EUR']))
      .on('order.created.v2', (m) => void seen.push([m.type, m.payload.amount.value, m.payload.amount.currency]));
    const oldSender = createOutbox({ store: createMemoryOutboxStore(), source: 'old', catalog: defineMessages({ 'order.created.v1': v1 }), logger: silent })
      .configure('order.created.v1', { transport: { name: 'link', send: async (message) => void (await inbox.receive(message)) } });
    const newSender = createOutbox({ store: createMemoryOutboxStore(), source: 'new', catalog: defineMessages({ 'order.created.v2': v2 }), logger: silent })
      .configure('order.created.v2', { transport: { name: 'link', send: async (message) => void (await inbox.receive(message)) } });
    await oldSender.transaction((tx) => oldSender.add(tx, { type: 'order.created.v1', payload: { id: 'o-1', amount: 5 } }));
    await newSender.transaction((tx) => newSender.add(tx, { type: 'order.created.v2', payload: { id: 'o-2', amount: { value: 7, currency: 'USD' } } }));
    await Promise.all([oldSender.idle(), newSender.idle()]);
    await inbox.processDue();
    expect(seen.sort()).toEqual([
      ['order.created.v1', 5, 'EUR'],
      ['order.created.v2', 7, 'USD'],
    ]);
  });

  it('one type whose schema accepts the old shape and upgrades it: handlers see only the new shape', async () => {
    // Way 2: the receiver's schema takes both shapes and turns the old one into the new.
    const either = z.union([v2, v1.transform(({ id, amount }) => ({ id, amount: { value: amount, currency: 'EUR' } }))]);
    const store = createMemoryInboxStore();
    const seen: Array<{ id: string; amount: { value: number; currency: string } }> = [];
    const inbox = createInbox({ store, catalog: defineMessages({ 'order.created': either }), logger: silent }).on('order.created', (m) => void seen.push(m.payload));
    await inbox.receive(createMessage({ type: 'order.created', source: 'old', payload: { id: 'o-1', amount: 5 } }, { now: new Date() }));
    await inbox.receive(createMessage({ type: 'order.created', source: 'new', payload: { id: 'o-2', amount: { value: 7, currency: 'USD' } } }, { now: new Date() }));
    await expect(inbox.receive(createMessage({ type: 'order.created', source: 'bad', payload: { id: 'o-3' } }, { now: new Date() }))).rejects.toMatchObject({ code: 'invalid_payload' });
    await inbox.processDue();
    expect(seen.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'o-1', amount: { value: 5, currency: 'EUR' } },
      { id: 'o-2', amount: { value: 7, currency: 'USD' } },
    ]);
    expect((await store.list()).map((row) => row.source).sort()).toEqual(['new', 'old']);
  });
});
