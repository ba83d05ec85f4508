import type { StandardSchemaV1 } from '@standard-schema/spec';
import { MessageboxError } from '../errors.js';
import { escapeControlCharacters, quoteInput, truncateText } from '../text.js';
import type { AnyMessageCatalog } from './define-messages.js';

/** One reason a payload failed its schema: what is wrong, and where (`[]` for the payload itself). */
export interface PayloadIssue {
  readonly message: string;
  readonly path: readonly (string | number)[];
}

/** Most issues an error keeps (and the inbox answers with). */
export const MAX_PAYLOAD_ISSUES = 20;
const MAX_ISSUE_MESSAGE_LENGTH = 300;
const MAX_SUMMARY_ISSUES = 3;

/**
 * A payload that its type's schema refused: code `invalid_payload` (like any
 * payload JSON cannot carry), plus the schema's `issues`. Recognise it by
 * `code === 'invalid_payload'` and an `issues` array, not by `instanceof`
 * (an app may load two copies of core).
 *
 * @example
 * try { await outbox.add(tx, input) } catch (err) {
 *   if (isPayloadValidationError(err)) console.log(err.issues);
 * }
 */
export class PayloadValidationError extends MessageboxError {
  override readonly name = 'PayloadValidationError';
  /** The message type whose schema refused the payload. */
  readonly type: string;
  readonly issues: readonly PayloadIssue[];

  constructor(type: string, issues: readonly PayloadIssue[]) {
    super('invalid_payload', `payload of ${quoteInput(type)} does not match its schema: ${summarise(issues)}`);
    this.type = type;
    this.issues = issues;
  }
}

/** True for a {@link PayloadValidationError}, from this copy of core or another. */
export function isPayloadValidationError(error: unknown): error is PayloadValidationError {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === 'invalid_payload' &&
    Array.isArray((error as { issues?: unknown }).issues)
  );
}

/**
 * Validates `payload` with the schema the catalog has for `type` (awaiting
 * an async schema) and resolves with the schema's output; resolves with
 * `payload` unchanged when there is no catalog or no schema for the type.
 * Rejects with {@link PayloadValidationError} when the schema refuses it.
 */
export async function validatePayload(catalog: AnyMessageCatalog | undefined, type: string, payload: unknown): Promise<unknown> {
  const schema = catalog?.schemaOf(type);
  if (!schema) return payload;
  const result = await schema['~standard'].validate(payload);
  if (result.issues) throw new PayloadValidationError(type, normaliseIssues(result.issues));
  return result.value;
}

/** Issues as plain JSON: messages escaped and capped, paths of plain keys, at most {@link MAX_PAYLOAD_ISSUES}. */
export function normaliseIssues(issues: readonly StandardSchemaV1.Issue[]): PayloadIssue[] {
  const list = issues.length ? issues : [{ message: 'invalid' }];
  return list.slice(0, MAX_PAYLOAD_ISSUES).map((issue) => ({
    message: truncateText(escapeControlCharacters(String(issue.message)), MAX_ISSUE_MESSAGE_LENGTH),
    // Array.from, not .map: a library's path may be an Array subclass that .map would keep (arktype's is).
    path: Array.from(issue.path ?? [], (segment) => {
      const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
      return typeof key === 'number' ? key : truncateText(escapeControlCharacters(String(key)), MAX_ISSUE_MESSAGE_LENGTH);
    }),
  }));
}

function summarise(issues: readonly PayloadIssue[]): string {
  const shown = issues.slice(0, MAX_SUMMARY_ISSUES).map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
  const more = issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
}

/** Throws `invalid_options` when a catalog is given and does not declare `type` (configure, on, onBatch). */
export function assertDeclared(catalog: AnyMessageCatalog | undefined, type: string, where: string): void {
  if (catalog && typeof type === 'string' && !catalog.has(type)) {
    throw new MessageboxError('invalid_options', `${where}: message type ${quoteInput(type)} is not in the catalog; declare it in defineMessages()`);
  }
}
