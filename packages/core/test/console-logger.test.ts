import { afterEach, describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../src/index.js';

function capture() {
  const lines: { level: string; args: unknown[] }[] = [];
  const sink = (level: string) => (...args: unknown[]) => void lines.push({ level, args });
  return { lines, console: { debug: sink('debug'), info: sink('info'), warn: sink('warn'), error: sink('error') } };
}

describe('createConsoleLogger', () => {
  afterEach(() => {
    delete process.env['MESSAGEBOX_LOG_FORMAT'];
  });

  it('writes one line per event: the message, then key=value fields, strings with spaces quoted', () => {
    const { lines, console } = capture();
    const logger = createConsoleLogger({ console });
    logger.warn({ id: 'm-1', type: 'payment.created', attempts: 3, error: 'answered 400: {"error":"bad"}\nsecond line', skipped: undefined }, 'message is dead');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.args).toHaveLength(1);
    const line = lines[0]!.args[0] as string;
    expect(line).toBe('[messagebox] message is dead id=m-1 type=payment.created attempts=3 error="answered 400: {\\"error\\":\\"bad\\"}\\nsecond line"');
    expect(line).not.toContain('\n');
  });

  it('escapes control characters from remote text and drops events below the level', () => {
    const { lines, console } = capture();
    const logger = createConsoleLogger({ console, level: 'info' });
    logger.debug({ id: 'x' }, 'not shown');
    logger.info({ error: '\x1b]0;owned\x07' }, 'delivery failed; will retry');
    expect(lines.map((l) => l.level)).toEqual(['info']);
    expect(lines[0]!.args[0]).toBe('[messagebox] delivery failed; will retry error=\\u001b]0;owned\\u0007');
  });

  it('writes one JSON object per line with format json, or when MESSAGEBOX_LOG_FORMAT=json', () => {
    const { lines, console } = capture();
    createConsoleLogger({ console, format: 'json' }).error({ id: 'm-2', attempts: 1, nested: { a: 1 } }, 'the inbox store failed');
    process.env['MESSAGEBOX_LOG_FORMAT'] = 'json';
    createConsoleLogger({ console }).warn({ id: 'm-3', error: 'bad\nline' }, 'message is dead');
    expect(lines).toHaveLength(2);
    for (const { args } of lines) expect(args[0]).not.toContain('\n');
    expect(JSON.parse(lines[0]!.args[0] as string)).toMatchObject({ level: 'error', msg: 'the inbox store failed', id: 'm-2', attempts: 1, nested: { a: 1 } });
    expect(JSON.parse(lines[1]!.args[0] as string)).toMatchObject({ level: 'warn', msg: 'message is dead', id: 'm-3', error: 'bad\nline' });
    expect(Date.parse(JSON.parse(lines[1]!.args[0] as string).time)).not.toBeNaN();
  });
});
