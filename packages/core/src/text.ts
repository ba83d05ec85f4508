/**
 * Characters that can steer a terminal or hide what text says: C0 controls
 * (U+0000–U+001F, which include ESC and BEL), DEL, C1 controls
 * (U+0080–U+009F, which include the one-character CSI), the Unicode bidi
 * marks and overrides (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069)
 * and the line/paragraph separators U+2028, U+2029.
 */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const HAS_CONTROL_CHARACTER = new RegExp(CONTROL_CHARACTERS.source);
const CONTROL_CHARACTERS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Options of {@link escapeControlCharacters}. */
export interface EscapeControlCharactersOptions {
  /** Leave `\n` as it is (for multi-line output built locally, e.g. indented JSON). Default false. */
  keepNewlines?: boolean;
}

/**
 * Makes remote text (a receiver's error body, a header value from a sender)
 * safe to store and print: every control character (see above) becomes a
 * visible escape, `\n`, `\r`, `\t` or `\uXXXX`, so it can neither retitle nor
 * clear a terminal, nor reorder what an operator reads. Other text, including
 * backslashes, is kept as is. The escapes are valid inside a JSON string, so
 * JSON text stays valid JSON and decodes to the same value.
 *
 * @example
 * escapeControlCharacters('\x1b]0;owned\x07 bad request') // '\\u001b]0;owned\\u0007 bad request'
 */
export function escapeControlCharacters(text: string, options: EscapeControlCharactersOptions = {}): string {
  const pattern = options.keepNewlines ? CONTROL_CHARACTERS_BUT_NEWLINE : CONTROL_CHARACTERS;
  return text.replace(pattern, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether `text` holds a character {@link escapeControlCharacters} would escape. */
export function hasControlCharacters(text: string): boolean {
  return HAS_CONTROL_CHARACTER.test(text);
}

/** Default most characters of an input value an error message repeats. */
export const MAX_QUOTED_LENGTH = 120;

/**
 * `text` cut to at most `maxLength` characters, the last one an ellipsis
 * when it was cut (never splitting a surrogate pair).
 *
 * @example
 * truncateText('x'.repeat(500), 10) // 'xxxxxxxxx…'
 */
export function truncateText(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let end = Math.max(0, maxLength - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * An input value as an error message repeats it: JSON-quoted, control
 * characters escaped, at most `maxLength` characters (default 120), so an
 * error about a 16 KB header stays short and safe to print.
 *
 * @example
 * `message id must be printable ASCII; got ${quoteInput(id)}` // got "has space"
 */
export function quoteInput(value: unknown, maxLength = MAX_QUOTED_LENGTH): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return truncateText(escapeControlCharacters(text), maxLength);
}
