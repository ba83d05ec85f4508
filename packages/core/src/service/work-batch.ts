/**
 * One unit of work of a service's runner: claimed rows run together in one
 * concurrency slot. `batched`: they go to one batch call (the outbox's
 * `sendBatch`, the inbox's batch handler); otherwise a single row.
 */
export interface WorkBatch<Row> {
  rows: Row[];
  batched: boolean;
}

/**
 * How a row may share a batch: with the rows of the same `key`, at most
 * `maxRows` of them and, with `maxBytes`, at most that many bytes (as
 * counted by `groupBatches`' `bytesOf`). Limits of rows sharing a key may
 * differ: a batch keeps within the smallest of its rows'.
 */
export interface BatchRule {
  key: unknown;
  maxRows: number;
  maxBytes?: number;
}

/**
 * Groups rows into work batches, in their order: a row without a rule (or
 * larger on its own than its rule's `maxBytes`) alone and unbatched; the
 * others per key, in chunks within the limits.
 *
 * @example
 * groupBatches(jobs, (job) => (isBatchType(job) ? { key: job.type, maxRows: 100 } : undefined))
 */
export function groupBatches<Row>(rows: readonly Row[], ruleOf: (row: Row) => BatchRule | undefined, bytesOf: (row: Row) => number = () => 0): WorkBatch<Row>[] {
  const batches: WorkBatch<Row>[] = [];
  const open = new Map<unknown, { batch: WorkBatch<Row>; bytes: number; maxRows: number; maxBytes: number }>();
  for (const row of rows) {
    const rule = ruleOf(row);
    if (!rule) {
      batches.push({ rows: [row], batched: false });
      continue;
    }
    const maxBytes = rule.maxBytes ?? Number.POSITIVE_INFINITY;
    const bytes = rule.maxBytes === undefined ? 0 : bytesOf(row);
    if (bytes > maxBytes) {
      batches.push({ rows: [row], batched: false });
      continue;
    }
    const current = open.get(rule.key);
    if (current) {
      const limits = { maxRows: Math.min(current.maxRows, rule.maxRows), maxBytes: Math.min(current.maxBytes, maxBytes) };
      if (current.batch.rows.length < limits.maxRows && current.bytes + bytes <= limits.maxBytes) {
        current.batch.rows.push(row);
        current.bytes += bytes;
        Object.assign(current, limits);
        continue;
      }
    }
    const batch: WorkBatch<Row> = { rows: [row], batched: true };
    batches.push(batch);
    open.set(rule.key, { batch, bytes, maxRows: rule.maxRows, maxBytes });
  }
  return batches;
}
