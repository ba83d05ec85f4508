import { describe, expect, it } from 'vitest';
import { ConnectionGate } from '../src/connection-gate.js';

describe('ConnectionGate', () => {
  it('hands free slots out in arrival order', async () => {
    const gate = new ConnectionGate(2, 60_000);
    expect(await gate.acquire()).toBe('acquired');
    expect(await gate.acquire()).toBe('acquired');
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => gate.acquire().then((outcome) => (order.push(n), outcome)));
    expect(gate.waiting).toBe(3);
    gate.release();
    gate.release();
    gate.release();
    expect(await Promise.all(waits)).toEqual(['acquired', 'acquired', 'acquired']);
    expect(order).toEqual([1, 2, 3]);
    expect(gate.waiting).toBe(0);
  });

  it('every waiter times out on its own, holding no slot; a later one still gets a released slot', async () => {
    const gate = new ConnectionGate(1, 30);
    expect(await gate.acquire()).toBe('acquired');
    expect(await Promise.all([gate.acquire(), gate.acquire(), gate.acquire()])).toEqual(['timeout', 'timeout', 'timeout']);
    expect(gate.waiting).toBe(0);
    const later = gate.acquire();
    gate.release();
    expect(await later).toBe('acquired');
    gate.release();
    expect(await gate.acquire()).toBe('acquired');
  });

  it('an abort or close ends the wait without a slot', async () => {
    const gate = new ConnectionGate(1, 60_000);
    await gate.acquire();
    const controller = new AbortController();
    const aborted = gate.acquire(controller.signal);
    const closed = gate.acquire();
    controller.abort();
    expect(await aborted).toBe('aborted');
    gate.close();
    expect(await closed).toBe('closed');
    expect(await gate.acquire()).toBe('closed');
  });
});
