import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/messagebox.mjs', import.meta.url));
export const FIXTURE_CONFIG = fileURLToPath(new URL('../fixtures/messagebox.config.ts', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function baseEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env, MESSAGEBOX_CLI_SOURCE: '1', MESSAGEBOX_CONFIG: FIXTURE_CONFIG, MESSAGEBOX_PROGRESS_MS: '0', NODE_OPTIONS: '', ...env };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return merged;
}

/** A running `messagebox` process, with its output so far. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout or stderr matches `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<CliResult & { at: number }>;
}

/** Starts the real `messagebox` bin as a child process. */
export function startCli(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? FIXTURES, env: baseEnv(options.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
    for (const check of waiters) check();
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    for (const check of waiters) check();
  });
  const exited = new Promise<CliResult & { at: number }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, at: Date.now() })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`)), timeoutMs);
        const check = () => {
          if (pattern.test(stdout) || pattern.test(stderr)) done();
        };
        const done = (error?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve();
        };
        waiters.add(check);
        void exited.then((r) => done(pattern.test(r.stdout) || pattern.test(r.stderr) ? undefined : new Error(`exited (${r.code}) before ${pattern}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)));
        check();
      });
    },
  };
}

/** Runs `messagebox <args>` to completion. */
export async function runCli(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const proc = startCli(args, options);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const result = await proc.exited;
  clearTimeout(timer);
  return result;
}
