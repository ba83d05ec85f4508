import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore } from '../src/index.js';
import { silent } from './support.js';

const message = (id: string) => ({ id, source: 's', type: 't', payload: 1, headers: {}, createdAt: new Date() });

describe('a listener that throws', () => {
  it('is logged with its error as text a JSON logger keeps', async () => {
    const lines: string[] = [];
    const logger = { ...silent, error: (fields: object, message: string) => void lines.push(JSON.stringify({ message, ...fields })) };
    const inbox = createInbox({ store: createMemoryInboxStore(), logger }).on('t', () => {});
    inbox.events.on('received', () => {
      throw new Error('listener broke');
    });
    await inbox.receive(message('m4'));
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(expect.objectContaining({ message: 'an event listener threw', error: 'listener broke' }));
  });
});
