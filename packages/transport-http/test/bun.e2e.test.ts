import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const bunPackage = createRequire(import.meta.url).resolve('bun/package.json');
const bun = join(dirname(bunPackage), 'bin', 'bun.exe');
const script = fileURLToPath(new URL('./runtime/bun-roundtrip.ts', import.meta.url));
// The `bun` devDependency's postinstall puts the binary there; in CI its absence is a failure, never a skip.
const missing = existsSync(bun) ? undefined : `the bun binary is not installed at ${bun} (its postinstall did not run)`;

it.skipIf(missing !== undefined && process.env['CI'] !== 'true')(
  `under Bun: createHttpTransport picks fetch; sender and inbox (Bun.serve + core's Fetch handler) exchange single, batched and forged messages over real HTTP${missing ? ` (skipped: ${missing})` : ''}`,
  async () => {
    if (missing) throw new Error(`[messagebox] ${missing}`);
    const { stdout } = await run(bun, ['--conditions=@messagebox/source', script], { timeout: 120_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      runtime: string;
      engine: string;
      handled: unknown[];
      sent: number;
      dead: Array<{ type: string; attempts: number; error: string }>;
    };
    expect(result.runtime).toMatch(/^bun \d/);
    expect(result.engine).toBe('fetch');
    expect(result.handled).toHaveLength(7);
    expect(result.handled).toEqual(expect.arrayContaining([{ amount: 1 }, { amount: 2 }, ...[0, 1, 2, 3, 4].map((batch) => ({ batch }))]));
    expect(result.sent).toBe(7);
    expect(result.dead).toHaveLength(1);
    expect(result.dead[0]).toMatchObject({ type: 'payment.forged', attempts: 1 });
    expect(result.dead[0]!.error).toMatch(/answered 401: .*invalid_signature/);
  },
);
