import type { Message } from '../message.js';

/** The message of a claimed row (outbox or inbox), without the store's bookkeeping columns. */
export function messageOfRow(row: Message): Message {
  return { id: row.id, source: row.source, type: row.type, payload: row.payload, headers: row.headers, createdAt: row.createdAt, ...(row.key !== undefined ? { key: row.key } : {}) };
}
