import { fileURLToPath } from 'node:url';
import { DEFAULT_ADMIN_URL, type Dialect } from './databases.js';
import { DELIVERIES } from './variants.js';
import { parseBrokers } from './broker-variants.js';
import { parseKeyCounts } from './keyed-variants.js';
import type { Broker } from './broker-routes.js';

/** What one benchmark run measures; every field has a flag and an environment variable. */
export interface BenchmarkOptions {
  /** Messages per drain and per ceiling run. `--messages` / `BENCH_MESSAGES`, default 20 000. */
  messages: number;
  /** Rounds over every variant (interleaved). `--repeats` / `BENCH_REPEATS`, default 3. */
  repeats: number;
  /** Also drain 10 × `messages` once per dialect (4 senders) and compare. `--full` / `BENCH_FULL=1`. */
  full: boolean;
  dialects: Dialect[];
  senders: number[];
  deliveries: string[];
  /** Postgres drains also through these brokers (outbox → broker → inbox). `--brokers` / `BENCH_BROKERS`, default `amqp,nats`; `none` skips them. */
  brokers: Broker[];
  /** Also drain keyed messages with these key counts (most senders, per message). `--keys` / `BENCH_KEYS`, default `10,1000`; `none` skips them. */
  keys: number[];
  /** Unloaded latency samples (and enqueue pairs) per round. `--latency-samples` / `BENCH_LATENCY_SAMPLES`, default 200. */
  latencySamples: number;
  /** `latency`: only the unloaded latency and enqueue overhead runs (no drains, ceilings or `--full`). `--only` / `BENCH_ONLY`, default everything. */
  only?: 'latency';
  /** Postgres server where the benchmark may CREATE DATABASE. `BENCH_DATABASE_URL`. */
  adminUrl: string;
  /** Where the JSON and Markdown results go. `--out` / `BENCH_OUT`, default `bench-results/` at the repository root. */
  outDir: string;
  /** Bound of one drain or ceiling run, in ms. `--timeout-s` / `BENCH_TIMEOUT_S`, default max(120 s, 20 ms per message). */
  timeoutMs: number;
  /** Print progress lines. */
  quiet: boolean;
  /**
   * SQLite `synchronous` of every connection the benchmark opens (messagebox's
   * and the ceiling's alike). `--sqlite-synchronous` / `BENCH_SQLITE_SYNCHRONOUS`,
   * default `full`: what `createSqliteStorage` leaves in place, and what makes
   * an acknowledged message survive a power cut. `normal` compares with runs
   * before 2026-12-01 17:00 UTC.
   */
  sqliteSynchronous: 'full' | 'normal';
}

const usage = `usage: node dist/main.js [--messages=20000] [--repeats=3] [--full] [--dialects=postgres,sqlite]
  [--senders=1,4] [--deliveries=${DELIVERIES.join(',')}] [--brokers=amqp,nats|none] [--keys=10,1000|none] [--latency-samples=200] [--only=latency] [--out=DIR] [--timeout-s=S] [--sqlite-synchronous=full|normal] [--quiet]
  node dist/main.js --from-json=FILE   (prints the tables of an earlier run)
  (or the same as BENCH_MESSAGES, BENCH_REPEATS, BENCH_FULL=1, BENCH_DIALECTS, ...; BENCH_DATABASE_URL for Postgres)`;

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchmarkOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`[benchmark] unknown argument "${arg}"\n${usage}`);
    flags.set(match[1]!, match[2] ?? 'true');
  }
  const known = ['messages', 'repeats', 'full', 'dialects', 'senders', 'deliveries', 'brokers', 'keys', 'latency-samples', 'only', 'out', 'timeout-s', 'sqlite-synchronous', 'quiet'];
  for (const key of flags.keys()) if (!known.includes(key)) throw new Error(`[benchmark] unknown flag --${key}\n${usage}`);
  const get = (flag: string) => flags.get(flag) ?? env[`BENCH_${flag.toUpperCase().replaceAll('-', '_')}`];
  const int = (flag: string, fallback: number, min = 1) => {
    const raw = get(flag);
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`[benchmark] --${flag} must be an integer ≥ ${min}, got "${raw}"`);
    return value;
  };
  const list = (flag: string, fallback: string) => (get(flag) || fallback).split(',').map((s) => s.trim()).filter(Boolean);
  const dialects = list('dialects', 'postgres,sqlite');
  for (const d of dialects) if (d !== 'postgres' && d !== 'sqlite') throw new Error(`[benchmark] --dialects: unknown dialect "${d}" (postgres, sqlite)`);
  const senders = list('senders', '1,4').map(Number);
  for (const s of senders) if (!Number.isInteger(s) || s < 1 || s > 16) throw new Error(`[benchmark] --senders must list integers from 1 to 16, got "${get('senders')}"`);
  const messages = int('messages', 20_000);
  const sqliteSynchronous = (get('sqlite-synchronous') || 'full').toLowerCase();
  if (sqliteSynchronous !== 'full' && sqliteSynchronous !== 'normal') throw new Error(`[benchmark] --sqlite-synchronous must be full or normal, got "${sqliteSynchronous}"`);
  const only = get('only') || undefined;
  if (only !== undefined && only !== 'latency') throw new Error(`[benchmark] --only must be latency, got "${only}"`);
  const bool = (flag: string) => ['1', 'true', 'yes'].includes(String(get(flag) ?? '').toLowerCase());
  return {
    messages,
    repeats: int('repeats', 3),
    full: bool('full'),
    dialects: dialects as Dialect[],
    senders,
    deliveries: list('deliveries', DELIVERIES.join(',')),
    brokers: parseBrokers(list('brokers', 'amqp,nats')),
    keys: parseKeyCounts(list('keys', '10,1000')),
    latencySamples: int('latency-samples', 200),
    ...(only ? { only } : {}),
    adminUrl: env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL,
    outDir: get('out') || fileURLToPath(new URL('../../../bench-results', import.meta.url)),
    timeoutMs: int('timeout-s', Math.max(120, Math.ceil(messages * 0.02))) * 1000,
    quiet: bool('quiet'),
    sqliteSynchronous,
  };
}
