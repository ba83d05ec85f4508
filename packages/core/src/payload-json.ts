import type { JsonValue } from './json.js';

/** JSON texts of payload objects read from storage, by object: what they were stored as. */
const stored = new WeakMap<object, string>();

/**
 * Records that `payload` was parsed from `text` (a store reading a row), so
 * {@link payloadJson} writes it on the wire without stringifying it again.
 * Returns `payload`. Only objects and arrays are remembered; a store must
 * not hand the same payload object out after changing it.
 *
 * @example
 * const payload = rememberPayloadJson(JSON.parse(row.payload) as JsonValue, row.payload);
 */
export function rememberPayloadJson<T extends JsonValue>(payload: T, text: string): T {
  if (payload !== null && typeof payload === 'object') stored.set(payload, text);
  return payload;
}

/**
 * The JSON text of a message payload: the text it was read from (see
 * {@link rememberPayloadJson}) or `JSON.stringify(payload)`. Senders write
 * it into request bodies and count it for `maxBytes`: a claimed batch of
 * 100 messages is then not stringified twice on its way out.
 */
export function payloadJson(payload: JsonValue): string {
  return (payload !== null && typeof payload === 'object' ? stored.get(payload) : undefined) ?? JSON.stringify(payload);
}

/** Bytes of `text` in UTF-8, without encoding it (a lone surrogate counts 3, as `TextEncoder` writes U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}
