import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assertNotInterrupted } from './interrupt.js';

/** A message between the benchmark and one of its processes. */
export interface Note {
  kind: string;
  [key: string]: unknown;
}

/** Every child still running, so a failure or a signal can kill them all. */
const running = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL). */
export function killAllChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** One child process of the benchmark, talking over Node's IPC channel. */
export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly #waiters: { kind: string; resolve: (note: Note) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }[] = [];
  readonly #inbox: Note[] = [];
  /** The latest `progress` note. */
  progress: Note | undefined;
  stderr = '';
  exited: Promise<number | null>;

  /**
   * Starts `script` (a file next to this one) with plain node on built
   * JavaScript, or with tsx and the source condition when the benchmark
   * itself runs from TypeScript (the smoke test).
   */
  constructor(name: string, script: string, env: Record<string, string>) {
    assertNotInterrupted(name);
    this.name = name;
    const fromSource = import.meta.url.endsWith('.ts');
    const file = fileURLToPath(new URL(`./${script}.${fromSource ? 'ts' : 'js'}`, import.meta.url));
    this.process = fork(file, [], {
      env: { ...process.env, ...env },
      // --expose-gc: a process reports its heap after a full GC at the end of a run (measureWindow), and on BENCH_HEAP_EVERY.
      execArgv: [...(fromSource ? ['--import', 'tsx', '--conditions=@messagebox/source'] : []), '--expose-gc', ...childNodeArgs(name)],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    running.add(this.process);
    this.process.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-8_000);
    });
    this.exited = new Promise((resolve) =>
      this.process.once('exit', (code, signal) => {
        running.delete(this.process);
        for (const waiter of this.#waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`[benchmark] ${name} exited (${signal ?? code}) while the benchmark waited for "${waiter.kind}"${this.#stderrTail()}`));
        }
        resolve(code);
      }),
    );
    this.process.on('message', (note: Note) => {
      if (note.kind === 'progress') {
        this.progress = note;
        return;
      }
      const index = this.#waiters.findIndex((w) => w.kind === note.kind);
      if (index >= 0) {
        const [waiter] = this.#waiters.splice(index, 1);
        clearTimeout(waiter!.timer);
        waiter!.resolve(note);
      } else this.#inbox.push(note);
    });
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  send(note: Note): void {
    if (this.alive) this.process.send(note);
  }

  /** The next note of `kind` (one that already arrived, or the next to come); rejects after `timeoutMs` or when the child exits. */
  next(kind: string, timeoutMs: number): Promise<Note> {
    const index = this.#inbox.findIndex((n) => n.kind === kind);
    if (index >= 0) return Promise.resolve(this.#inbox.splice(index, 1)[0]!);
    if (!this.alive) return Promise.reject(new Error(`[benchmark] ${this.name} is not running${this.#stderrTail()}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.findIndex((w) => w.timer === timer);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`[benchmark] ${this.name} sent no "${kind}" within ${timeoutMs} ms${this.#stderrTail()}`));
      }, timeoutMs);
      this.#waiters.push({ kind, resolve, reject, timer });
    });
  }

  /** Sends `request` and waits for the answer of kind `answer`. */
  ask(request: Note, answer: string, timeoutMs: number): Promise<Note> {
    const reply = this.next(answer, timeoutMs);
    this.send(request);
    return reply;
  }

  /** Asks the child to stop and waits for its `final` note; kills it if it does not exit in time. */
  async stop(timeoutMs = 30_000): Promise<Note | undefined> {
    let final: Note | undefined;
    try {
      if (this.alive) final = await this.ask({ kind: 'stop' }, 'final', timeoutMs);
    } finally {
      const exited = await Promise.race([this.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5_000))]);
      if (!exited) this.process.kill('SIGKILL');
    }
    return final;
  }

  #stderrTail(): string {
    const tail = this.stderr.trim().split('\n').slice(-12).join('\n');
    return tail ? `; its stderr ends with:\n${tail}` : '';
  }
}

/**
 * Extra node flags for the child processes, from `BENCH_NODE_ARGS` (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`); `{name}` in a flag becomes the
 * child's name and a sequence number, so profiles say whose they are.
 */
let started = 0;
function childNodeArgs(name: string): string[] {
  const args = process.env.BENCH_NODE_ARGS?.trim();
  if (!args) return [];
  const tag = `${name.replaceAll(' ', '-')}-${++started}`;
  return args.split(/\s+/).map((arg) => arg.replaceAll('{name}', tag));
}

/** Rejects as soon as one of `children` exits (use it in a race while they should all be running). */
export function anyExit(children: readonly Child[]): Promise<never> {
  const crash = Promise.race(
    children.map((c) =>
      c.exited.then((code) => {
        throw new Error(`[benchmark] ${c.name} exited early (${code ?? c.process.signalCode})${c.stderr.trim() ? `; its stderr ends with:\n${c.stderr.trim().split('\n').slice(-12).join('\n')}` : ''}`);
      }),
    ),
  );
  crash.catch(() => {});
  return crash;
}
