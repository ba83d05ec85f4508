import { rememberPayloadJson, type ClaimedInboxMessage, type ClaimedOutboxMessage, type InboxRecord, type InboxStatus, type JsonValue, type Message, type OutboxRecord, type OutboxStatus } from '@messagebox/core';
import type { InboxRow, OutboxRow } from './schema.js';
import { toDate, toMillis } from './time.js';

/** The columns every table shares, from a message. */
export function messageColumns(message: Message) {
  return {
    id: message.id,
    source: message.source,
    type: message.type,
    payload: JSON.stringify(message.payload),
    headers: JSON.stringify(message.headers ?? {}),
    created_at: message.createdAt.getTime(),
    // Only keyed rows name the column: an unkeyed insert is the statement it always was (the column's default is NULL).
    ...(message.key !== undefined ? { order_key: message.key } : {}),
  };
}

function messageOf(row: OutboxRow | InboxRow): Message<JsonValue> {
  return {
    id: row.id,
    source: row.source,
    type: row.type,
    payload: JSON.parse(row.payload) as JsonValue,
    headers: JSON.parse(row.headers) as Record<string, string>,
    createdAt: new Date(toMillis(row.created_at)),
    ...(row.order_key != null ? { key: row.order_key } : {}),
  };
}

export function toOutboxRecord(row: OutboxRow): OutboxRecord {
  return {
    ...messageOf(row),
    status: row.status as OutboxStatus,
    attempts: Number(row.attempts),
    availableAt: new Date(toMillis(row.available_at)),
    lastError: row.last_error,
    sentAt: toDate(row.sent_at),
    leaseUntil: toDate(row.lease_until),
  };
}

/** A claimed outbox row; its payload is sent as the text it was stored as (`rememberPayloadJson`), not stringified again. */
export function toClaimedOutbox(row: OutboxRow): ClaimedOutboxMessage {
  const record = toOutboxRecord(row);
  rememberPayloadJson(record.payload, row.payload);
  return { ...record, token: row.claim_token ?? '' };
}

export function toInboxRecord(row: InboxRow): InboxRecord {
  return {
    ...messageOf(row),
    status: row.status as InboxStatus,
    attempts: Number(row.attempts),
    receivedAt: new Date(toMillis(row.received_at)),
    availableAt: new Date(toMillis(row.available_at)),
    lastError: row.last_error,
    processedAt: toDate(row.processed_at),
    leaseUntil: toDate(row.lease_until),
  };
}

export function toClaimedInbox(row: InboxRow): ClaimedInboxMessage {
  return { ...toInboxRecord(row), token: row.claim_token ?? '' };
}

/**
 * Claimed rows in the order they started waiting (`since`: created or
 * received), whatever order the database returned: the claim set every
 * row's `available_at` to the same lease end, so that column no longer
 * tells. Rows are selected oldest due first; within one claim they come
 * back oldest first.
 */
export function byWaitingOrder<R extends { id: string }>(rows: R[], since: keyof R & string): R[] {
  return rows.sort((a, b) => toMillis(a[since] as number | string) - toMillis(b[since] as number | string) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
