import { describe, expect, it } from 'vitest';
import { createTurnToken } from '../src/internal/turn-token.js';

describe('claim tokens shared within a turn', () => {
  it('rows claimed together share one token, a second copy of a row gets its own, and the next turn a new one', async () => {
    const token = createTurnToken();
    const [a, b, again] = [token('s/1'), token('s/2'), token('s/1')];
    expect(b).toBe(a);
    expect(again).not.toBe(a);
    await Promise.resolve();
    const later = token('s/1');
    expect(later).not.toBe(a);
    expect(token('s/3')).toBe(later);
  });
});
