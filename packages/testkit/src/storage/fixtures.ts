import { createMessage, newMessageId, type JsonValue, type Message } from '@messagebox/core';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let counter = 0;

/** A valid message of `type` with a fresh id. */
export function message(type = 'test.event', payload: JsonValue = { n: ++counter }, headers: Record<string, string> = {}): Message {
  return createMessage({ type, payload, headers, source: 'conformance' }, { now: new Date() });
}

/** A fresh claim token. */
export function token(): string {
  return `tok-${newMessageId()}`;
}

export const LONG = 60_000;
export const SHORT = 50;
/** Comfortably longer than {@link SHORT}, so an expired lease is expired whatever the scheduling noise. */
export const AFTER_SHORT = 250;

/** Waits until `check` is true, or fails after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function ids(rows: readonly { id: string }[]): string[] {
  return rows.map((r) => r.id);
}

export const sorted = (values: readonly string[]) => [...values].sort();
