/**
 * Columns both tables have. Times are epoch milliseconds (BIGINT); drivers
 * may return them as strings (pg), so read them through `toMillis`.
 */
interface MessageRow {
  id: string;
  source: string;
  type: string;
  payload: string;
  headers: string;
  created_at: number | string;
  status: string;
  attempts: number | string;
  available_at: number | string;
  last_error: string | null;
  lease_until: number | string | null;
  claim_token: string | null;
  /** The message's ordering key, or null (migration `0005_ordering_keys`). */
  order_key: string | null;
}

/** Columns of the outbox table. */
export interface OutboxRow extends MessageRow {
  sent_at: number | string | null;
}

/** Columns of the inbox table. */
export interface InboxRow extends MessageRow {
  received_at: number | string;
  processed_at: number | string | null;
}

/** Applied migrations, by name. */
export interface MigrationRow {
  name: string;
  applied_at: number | string;
}
