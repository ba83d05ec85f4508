// Type-level tests of `createInbox({ outbox })`: compiled by `pnpm typecheck` (tsc --noEmit over test/).
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import { createInbox, createMemoryInboxStore, createMemoryOutboxStore, createOutbox, defineMessages, type InboxStore, type Message, type MemoryTransaction, type Transport } from '../../src/index.js';

declare const transport: Transport;

const sent = defineMessages({ 'ledger.booked': z.object({ of: z.string() }) });
const received = defineMessages({ 'payment.created': z.object({ id: z.string(), amount: z.number() }) });

// An outbox typed by its own catalog publishes from an inbox typed by another: `add` keeps the outbox's types.
const outbox = createOutbox({ store: createMemoryOutboxStore(), source: 'ledger', catalog: sent }).configure('ledger.booked', { transport });
createInbox({ store: createMemoryInboxStore(), catalog: received, outbox }).on('payment.created', async (message, { tx }) => {
  expectTypeOf(tx).toEqualTypeOf<MemoryTransaction>();
  const published = await outbox.add(tx, { type: 'ledger.booked', payload: { of: message.payload.id } });
  expectTypeOf(published).toEqualTypeOf<Message<{ of: string }, 'ledger.booked'>>();
  // @ts-expect-error the outbox's catalog still checks payloads inside a handler
  await outbox.add(tx, { type: 'ledger.booked', payload: { of: 1 } });
  // @ts-expect-error and types it was not configured for
  await outbox.add(tx, { type: 'payment.created', payload: message.payload });
});

// Untyped outbox and inbox: any outbox of the same transaction type.
const untyped = createOutbox({ store: createMemoryOutboxStore(), source: 'ledger' });
createInbox({ store: createMemoryInboxStore(), outbox: untyped }).on('any.type', async (_message, { tx }) => void (await untyped.add(tx, { type: 'x', payload: 1 })));

// An outbox whose transactions are another type cannot be the inbox's: its `tx` would not be the handler's.
interface OtherTx {
  other: true;
}
declare const otherStore: InboxStore<OtherTx>;
// @ts-expect-error the outbox's store runs MemoryTransaction, the inbox's OtherTx
createInbox({ store: otherStore, outbox: untyped });
