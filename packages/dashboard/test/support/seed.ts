import { createMessage, type InboxStore, type JsonValue, type Message, type OutboxStore } from '@messagebox/core';

const TOKEN = 'seed-claim';
export const HOSTILE_ERROR = '<img src=x onerror="window.__xss=1">HTTP 400 from ledger';
export const HOSTILE_PAYLOAD = { note: '<script>window.__xss=2</script>', amount: 12 };

const message = (type: string, source: string, payload: JsonValue = { n: 1 }, headers: Record<string, string> = {}): Message =>
  createMessage({ type, source, payload, headers }, { now: new Date() });

/** Adds outbox messages and drives them into a state through the store's own port, as workers would. */
async function outboxRows(store: OutboxStore<unknown>, messages: Message[], state: 'pending' | 'retrying' | 'in-flight' | 'sent' | 'dead', error = 'boom'): Promise<Message[]> {
  await store.transaction((tx) => store.add(tx, messages));
  if (state === 'pending') return messages;
  const claimed = await store.claimDue({ token: TOKEN, leaseMs: 600_000, limit: messages.length, ids: messages.map((m) => m.id) });
  for (const claim of claimed) {
    if (state === 'sent') await store.markSent([claim]);
    if (state === 'dead') await store.markDead(claim, { error });
    if (state === 'retrying') await store.scheduleRetry(claim, { delayMs: 3_600_000, error });
  }
  return messages;
}

async function inboxRows(store: InboxStore<unknown>, messages: Message[], state: 'received' | 'processed' | 'dead', error = 'handler threw'): Promise<Message[]> {
  await store.transaction(async (tx) => {
    for (const m of messages) await store.receive(tx, m);
  });
  if (state === 'received') return messages;
  const claimed = await store.claimDue({ token: TOKEN, leaseMs: 600_000, limit: 1_000 });
  const mine = (c: { id: string }) => messages.some((m) => m.id === c.id);
  await store.release(claimed.filter((c) => !mine(c)));
  for (const claim of claimed.filter(mine)) {
    if (state === 'processed') await store.transaction((tx) => store.markProcessed(tx, claim));
    else await store.markDead(claim, { error });
  }
  return messages;
}

const many = (n: number, make: () => Message) => Array.from({ length: n }, make);

/**
 * The same small world on every store: payments that were sent, wait, retry,
 * are in flight and died with a 503; one invoice that died with an error and
 * a payload written to break a page that renders them as HTML; an inbox with
 * received, processed and dead messages from `billing`. `history` adds that
 * many sent payments (for a sparkline with something on it).
 */
export async function seedWorld(outbox: OutboxStore<unknown>, inbox: InboxStore<unknown>, options: { history?: number } = {}) {
  const payment = (n: number) => message('payment.created', 'vault', { paymentId: `p-${n}`, amount: 100 + n }, { 'x-tenant': 'acme' });
  let n = 0;
  await outboxRows(outbox, many(3 + (options.history ?? 0), () => payment(n++)), 'sent');
  await outboxRows(outbox, many(1, () => payment(n++)), 'pending');
  await outboxRows(outbox, many(1, () => payment(n++)), 'retrying', 'HTTP 502 from ledger');
  await outboxRows(outbox, many(1, () => payment(n++)), 'in-flight');
  const deadPayments = await outboxRows(outbox, many(2, () => payment(n++)), 'dead', 'HTTP 503 from ledger: Service Unavailable');
  const hostile = await outboxRows(outbox, [message('invoice.sent', 'vault', HOSTILE_PAYLOAD, { 'x-note': '<b>bold</b>' })], 'dead', HOSTILE_ERROR);
  await outboxRows(outbox, many(1, () => message('invoice.sent', 'vault')), 'sent');
  await inboxRows(inbox, many(2, () => message('order.placed', 'billing')), 'received');
  await inboxRows(inbox, many(1, () => message('order.placed', 'billing')), 'processed');
  const deadInbox = await inboxRows(inbox, many(1, () => message('order.placed', 'billing')), 'dead', 'handler threw: ledger locked');
  return { deadPayments, hostile: hostile[0]!, deadInbox: deadInbox[0]! };
}
