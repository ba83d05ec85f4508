/**
 * Columns of the outbox table. Times are epoch milliseconds (BIGINT); drivers
 * may return them as strings (pg), so read them through `toMillis`.
 */
export interface OutboxRow {
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
  sent_at: number | string | null;
  lease_until: number | string | null;
  claim_token: string | null;
}

/** Columns of the inbox table. */
export interface InboxRow {
  id: string;
  source: string;
  type: string;
  payload: string;
  headers: string;
  created_at: number | string;
  status: string;
  attempts: number | string;
  received_at: number | string;
  available_at: number | string;
  last_error: string | null;
  processed_at: number | string | null;
  lease_until: number | string | null;
  claim_token: string | null;
}

/** Applied migrations, by name. */
export interface MigrationRow {
  name: string;
  applied_at: number | string;
}
