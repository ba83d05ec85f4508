import { MessageboxError, parseDuration, type MessageboxOperations, type MessageboxSide, type SideCounts } from '@messagebox/core';
import type { Context, Hono } from 'hono';
import { jsonError } from './json-error.js';
import { deadFilterOf, positiveInteger, sideOf, text, type FilterInput } from './request-filters.js';
import { csrfToken } from './security.js';

/** What the routes need from the dashboard's options. */
export interface ApiSettings {
  operations: MessageboxOperations;
  readOnly: boolean;
  pollMs: number;
}

/** Most messages one "replay selected" request names. */
const MAX_SELECTED = 1_000;

/** The JSON API under `api/`: reads for everyone authorised, writes unless read-only. */
export function addApiRoutes(app: Hono, { operations, readOnly, pollMs }: ApiSettings): void {
  app.get('/api/session', (c) => c.json({ readOnly, pollMs, csrfToken: csrfToken(c) }));

  app.get('/api/overview', async (c) => {
    const buckets = positiveInteger(c.req.query('buckets'), 'buckets', 15, 1_440);
    return c.json(await operations.overview({ buckets }));
  });

  app.get('/api/dead', async (c) => {
    const filter = deadFilterOf(queryFilter(c));
    const side = filter.side ?? 'outbox';
    const limit = positiveInteger(c.req.query('limit'), 'limit', 50, 500);
    const after = text(c.req.query('after'), 'after');
    const [page, count] = await Promise.all([
      operations.pageDead({ ...filter, side, limit, ...(after !== undefined ? { after } : {}) }),
      operations.countDead({ ...filter, side }),
    ]);
    return c.json({ side, messages: page.messages, next: page.next, matching: count.total });
  });

  app.get('/api/dead/count', async (c) => c.json(await operations.countDead(deadFilterOf(queryFilter(c)))));

  app.get('/api/message', async (c) => {
    const side = sideOf(text(c.req.query('side'), 'side') ?? '');
    const id = text(c.req.query('id'), 'id');
    if (id === undefined) throw new MessageboxError('invalid_options', 'id is required');
    const source = text(c.req.query('source'), 'source');
    const message = await operations.show(id, { side, ...(source !== undefined ? { source } : {}) });
    if (!message) return jsonError(c, 404, 'not_found', `no ${side} message with id ${JSON.stringify(id.slice(0, 80))}`);
    return c.json({ message });
  });

  const write = (handler: (c: Context, body: Record<string, unknown>) => Promise<Response>) => async (c: Context) => {
    if (readOnly) return jsonError(c, 403, 'read_only', 'this dashboard is read-only');
    return handler(c, await jsonBody(c));
  };

  app.post(
    '/api/replay',
    write(async (c, body) => {
      if (body.messages !== undefined) return c.json(await replaySelected(operations, body.messages));
      const filter = deadFilterOf(objectOf(body.filter, 'filter'));
      const all = body.all === true;
      return c.json(await operations.replayDead({ ...filter, ...(all ? { all } : {}) }));
    }),
  );

  app.post(
    '/api/purge',
    write(async (c, body) => {
      const olderThan = text(body.olderThan, 'olderThan');
      if (olderThan === undefined) throw new MessageboxError('invalid_options', 'olderThan is required, e.g. "7d"');
      const side = text(body.side, 'side');
      return c.json(await operations.purge({ olderThanMs: parseDuration(olderThan), ...(side !== undefined ? { side: sideOf(side) } : {}) }));
    }),
  );
}

function queryFilter(c: Context): FilterInput {
  return { side: c.req.query('side'), type: c.req.query('type'), error: c.req.query('error'), olderThan: c.req.query('olderThan'), source: c.req.query('source') };
}

/** Replays the messages the page selected, grouped by side and (inbox) source, as `(source, id)` names an inbox message. */
async function replaySelected(operations: MessageboxOperations, selected: unknown): Promise<SideCounts> {
  if (!Array.isArray(selected) || selected.length === 0 || selected.length > MAX_SELECTED) {
    throw new MessageboxError('invalid_options', `messages must be a list of 1 to ${MAX_SELECTED} { side, id, source } entries`);
  }
  const groups = new Map<string, { side: MessageboxSide; source: string | undefined; ids: string[] }>();
  for (const entry of selected) {
    const item = objectOf(entry, 'messages[]');
    const side = sideOf(text(item.side, 'side') ?? '');
    const id = text(item.id, 'id');
    if (id === undefined) throw new MessageboxError('invalid_options', 'every selected message needs an id');
    const source = side === 'inbox' ? text(item.source, 'source') : undefined;
    if (side === 'inbox' && source === undefined) throw new MessageboxError('invalid_options', `inbox message ${id} needs its source`);
    const key = JSON.stringify([side, source]);
    const group = groups.get(key) ?? { side, source, ids: [] };
    group.ids.push(id);
    groups.set(key, group);
  }
  const counts: SideCounts = { outbox: 0, inbox: 0, total: 0 };
  for (const { side, source, ids } of groups.values()) {
    const done = await operations.replayDead({ side, ids, ...(source !== undefined ? { source } : {}) });
    counts[side] += done[side];
    counts.total += done.total;
  }
  return counts;
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
    throw new MessageboxError('invalid_options', 'send a JSON body (Content-Type: application/json)');
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new MessageboxError('invalid_options', 'the body is not valid JSON');
  }
  return objectOf(body, 'the body');
}

function objectOf(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MessageboxError('invalid_options', `${name} must be a JSON object`);
  return value as Record<string, unknown>;
}
