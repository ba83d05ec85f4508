// Type-level tests: compiled by `pnpm typecheck` (tsc --noEmit over test/), which CI runs
// through `pnpm test` (.ci/run-tests.mjs runs typecheck and test for every package).
// An `@ts-expect-error` that stops being an error fails the build, as does a failed `expectTypeOf`.
import * as v from 'valibot';
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import { type } from 'arktype';
import {
  createInbox,
  createMemoryInboxStore,
  createMemoryOutboxStore,
  createOutbox,
  defineMessages,
  payload,
  type Inbox,
  type JsonValue,
  type Message,
  type MemoryTransaction,
  type Outbox,
  type Transport,
} from '../../src/index.js';

declare const transport: Transport;
declare const tx: MemoryTransaction;

interface PaymentCreated {
  id: string;
  amount: number;
  currency: 'EUR' | 'USD';
  paidAt?: Date;
  lines: { sku: string; quantity: number }[];
}

const catalog = defineMessages({
  'payment.created': payload<PaymentCreated>(),
  'order.created': z.object({ id: z.string(), total: z.number() }),
  'order.shipped': v.object({ id: v.string(), carrier: v.optional(v.string()) }),
  'user.renamed': type({ id: 'string', name: 'string' }),
});

// --- Outbox ---------------------------------------------------------------

const outbox = createOutbox({ store: createMemoryOutboxStore(), source: 'shop', catalog })
  .configure('payment.created', { transport })
  .configure('order.created', { transport })
  .configure('user.renamed', { transport });

async function outboxCases() {
  // An interface payload compiles, and the returned message is typed.
  const sent = await outbox.add(tx, { type: 'payment.created', payload: { id: 'p1', amount: 5, currency: 'EUR', lines: [] } });
  expectTypeOf(sent.payload).toEqualTypeOf<PaymentCreated>();
  expectTypeOf(sent.type).toEqualTypeOf<'payment.created'>();
  // A schema's input type is what add takes.
  const renamed = await outbox.add(tx, { type: 'user.renamed', payload: { id: 'u1', name: 'Ada' } });
  expectTypeOf(renamed.payload).toEqualTypeOf<{ id: string; name: string }>();
  const order = await outbox.add(tx, { type: 'order.created', payload: { id: 'o1', total: 12 } });
  expectTypeOf(order.payload).toEqualTypeOf<{ id: string; total: number }>();

  // @ts-expect-error a misspelled type does not compile
  await outbox.add(tx, { type: 'payment.craeted', payload: { id: 'p1', amount: 5, currency: 'EUR', lines: [] } });
  // @ts-expect-error a catalog type that this outbox did not configure does not compile
  await outbox.add(tx, { type: 'order.shipped', payload: { id: 'o1' } });
  // @ts-expect-error the payload must match its type
  await outbox.add(tx, { type: 'order.created', payload: { id: 'o1', total: '12' } });
  // @ts-expect-error excess properties are caught
  await outbox.add(tx, { type: 'order.created', payload: { id: 'o1', total: 12, extra: true } });
  // @ts-expect-error configure takes only catalog types
  outbox.configure('order.cancelled', { transport });

  // addMany checks each input against its own type.
  const many = await outbox.addMany(tx, [
    { type: 'order.created', payload: { id: 'o1', total: 1 } },
    { type: 'payment.created', payload: { id: 'p1', amount: 5, currency: 'USD', lines: [{ sku: 'a', quantity: 1 }] } },
  ]);
  expectTypeOf(many[0]!.type).toEqualTypeOf<'order.created' | 'payment.created' | 'user.renamed'>();
  await outbox.addMany(tx, [
    // @ts-expect-error the payload of another type
    { type: 'order.created', payload: { id: 'p1', amount: 5, currency: 'USD', lines: [] } },
  ]);

  // A typed outbox still goes wherever an untyped one is expected.
  const asAny: Outbox<any> = outbox;
  const asUnknown: Outbox<unknown> = outbox;
  return [asAny, asUnknown];
}

// --- Untyped API: unchanged, and interfaces are accepted now ----------------

const untyped = createOutbox({ store: createMemoryOutboxStore(), source: 'shop' }).configure('anything', { transport });

async function untypedCases(p: PaymentCreated) {
  const m = await untyped.add(tx, { type: 'anything', payload: p });
  expectTypeOf(m.payload).toEqualTypeOf<PaymentCreated>();
  const literal = await untyped.add(tx, { type: 'whatever', payload: { n: 1 } });
  expectTypeOf(literal.payload).toEqualTypeOf<{ n: number }>();
  // @ts-expect-error a function cannot travel as JSON
  await untyped.add(tx, { type: 'anything', payload: { id: 'x', run: () => 1 } });
  // @ts-expect-error nor can a bigint
  await untyped.add(tx, { type: 'anything', payload: { total: 1n } });
  await untyped.addMany(tx, [{ type: 'anything', payload: p }]);
  expectTypeOf(untyped).toEqualTypeOf<Outbox<MemoryTransaction>>();

  createInbox({ store: createMemoryInboxStore() }).on<PaymentCreated>('payment.created', (message) => {
    expectTypeOf(message.payload).toEqualTypeOf<PaymentCreated>();
  });
  createInbox({ store: createMemoryInboxStore() }).on('anything', (message) => {
    expectTypeOf(message.payload).toEqualTypeOf<JsonValue>();
  });
}

// --- payload<T>() refuses types JSON cannot carry --------------------------

// @ts-expect-error a bigint field is not JSON
payload<{ total: bigint }>();
// @ts-expect-error nor a Map
payload<{ seen: Map<string, number> }>();
payload<{ when: Date; tags?: string[]; note: string | null }>();

// --- Inbox ----------------------------------------------------------------

const inbox = createInbox({ store: createMemoryInboxStore(), catalog })
  .on('payment.created', async (message, { tx: handlerTx }) => {
    expectTypeOf(message.payload).toEqualTypeOf<PaymentCreated>();
    expectTypeOf(message.type).toEqualTypeOf<'payment.created'>();
    expectTypeOf(handlerTx).toEqualTypeOf<MemoryTransaction>();
  })
  .on('order.created', (message) => {
    // From the zod schema.
    expectTypeOf(message.payload).toEqualTypeOf<{ id: string; total: number }>();
  })
  .on('user.renamed', (message) => {
    // From the arktype schema.
    expectTypeOf(message.payload).toEqualTypeOf<{ id: string; name: string }>();
  })
  .onBatch('order.shipped', (messages) => {
    // From the valibot schema, in a batch handler.
    expectTypeOf(messages).toEqualTypeOf<readonly Message<{ id: string; carrier?: string | undefined }, 'order.shipped'>[]>();
  });

// @ts-expect-error a misspelled type does not compile at the inbox either
inbox.on('payment.craeted', () => {});

export const inboxAsAny: Inbox<any> = inbox;

// A schema whose output differs from its input: senders give the input, handlers get the output.
const transforming = defineMessages({ 'price.set': z.object({ cents: z.string().transform((s) => Number(s)) }) });
createOutbox({ store: createMemoryOutboxStore(), source: 's', catalog: transforming })
  .configure('price.set', { transport })
  .add(tx, { type: 'price.set', payload: { cents: '12' } });
createInbox({ store: createMemoryInboxStore(), catalog: transforming }).on('price.set', (message) => {
  expectTypeOf(message.payload.cents).toEqualTypeOf<number>();
});

export { outboxCases, untypedCases };
