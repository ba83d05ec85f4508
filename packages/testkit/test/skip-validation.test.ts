import { createMemoryInboxStore, createMemoryOutboxStore } from '@messagebox/core';
import { describe, expect, it } from 'vitest';
import { brokerTransportCaseNames, skipProblems, storageCaseNames } from '../src/index.js';

describe('storage conformance skip list', () => {
  it('names every case once, with an outbox: or inbox: prefix', () => {
    expect(new Set(storageCaseNames).size).toBe(storageCaseNames.length);
    expect(storageCaseNames.every((n) => n.startsWith('outbox: ') || n.startsWith('inbox: '))).toBe(true);
    expect(storageCaseNames.length).toBeGreaterThan(40);
  });

  it('rejects a skip naming a case that does not exist', () => {
    expect(skipProblems({ 'outbox: no such case': 'because' })).toEqual(['no case is named "outbox: no such case"']);
  });

  it('rejects a skip without a reason and accepts a valid one', () => {
    const name = storageCaseNames[0]!;
    expect(skipProblems({ [name]: '  ' })).toHaveLength(1);
    expect(skipProblems({ [name]: 'this store cannot do it' })).toEqual([]);
  });

  it('memory stores exist for the wiring test', () => {
    expect(typeof createMemoryOutboxStore().claimDue).toBe('function');
    expect(typeof createMemoryInboxStore().receive).toBe('function');
  });
});

describe('broker transport conformance skip list', () => {
  it('names every case once; a skip must name one of them with a reason', () => {
    expect(new Set(brokerTransportCaseNames).size).toBe(brokerTransportCaseNames.length);
    expect(brokerTransportCaseNames.length).toBeGreaterThanOrEqual(9);
    expect(skipProblems({ 'no such case': 'because' }, brokerTransportCaseNames)).toHaveLength(1);
    expect(skipProblems({ [brokerTransportCaseNames[0]!]: '' }, brokerTransportCaseNames)).toHaveLength(1);
    expect(skipProblems({ [brokerTransportCaseNames[0]!]: 'no batches here' }, brokerTransportCaseNames)).toEqual([]);
  });
});
