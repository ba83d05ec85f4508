import { describe, expect, it } from 'vitest';
import { createMemoryOutboxStore, createOutbox, type OutboxStore } from '../../src/index.js';
import type { MemoryTransaction } from '../../src/memory/index.js';
import { recordingTransport, silent } from '../support.js';

describe('review: outbox watch subscription', () => {
  it('stop() during start() does not leave the store subscription open (a LISTEN connection would keep the process alive)', async () => {
    const inner = createMemoryOutboxStore();
    let listening = 0;
    const store: OutboxStore<MemoryTransaction> = {
      ...inner,
      async watch(onWake) {
        await new Promise((r) => setTimeout(r, 10)); // connecting
        listening++;
        const stop = await inner.watch!(onWake);
        return async () => {
          listening--;
          await stop();
        };
      },
    };
    const outbox = createOutbox({ store, source: 'vault', logger: silent }).configure('t', { transport: recordingTransport() });
    const starting = outbox.start();
    expect(await outbox.stop()).toBe(true);
    await starting;
    expect(listening).toBe(0);
  });
});
