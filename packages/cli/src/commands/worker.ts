import { formatDuration } from '@messagebox/core';
import { Option, type Command } from 'commander';
import { CliError, explainFailure } from '../cli-error.js';
import { closeConfig, type GlobalOptions } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { loadConfig } from '../load-config.js';
import { logLine, type CliIO } from '../output.js';
import { durationOption, side } from './parse.js';

interface WorkerOptions {
  shutdownTimeout: number;
  only?: 'outbox' | 'inbox';
  reportInterval: number;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** A repeat within this window is the same stop request delivered twice (e.g. systemd signals every process of the unit). */
const REPEAT_SIGNAL_WINDOW_MS = 1_000;

export function workerCommand(program: Command, io: CliIO): void {
  program
    .command('worker')
    .description('run the long-running outbox and inbox workers until SIGTERM or SIGINT (Ctrl+C), then stop gracefully')
    .addOption(durationOption('--shutdown-timeout <duration>', 'bound on a graceful stop: in-flight attempts get most of it, then are aborted and the process exits', 30_000))
    .addOption(new Option('--only <side>', 'run only the outbox or only the inbox worker').argParser(side))
    .addOption(durationOption('--report-interval <duration>', 'print a line of counts this often when there was activity, e.g. 10s', 60_000))
    .addHelpText(
      'after',
      `
On SIGTERM or SIGINT the worker stops claiming, lets the attempts in flight
finish, and exits. Attempts still running when the shutdown timeout is near
are aborted (an outbox attempt is then retried later); a message whose
attempt could not be settled stays claimed only until its lease expires, when
another worker takes it over. A second signal (a second or more after the
first) exits at once. Retention
(deleting old sent/processed rows) runs inside the worker as configured in
createOutbox/createInbox.

Examples:
  messagebox worker
  messagebox worker --only outbox --shutdown-timeout 20s`,
    )
    .action(async (options: WorkerOptions, command: Command) => {
      await runWorker(command.optsWithGlobals<GlobalOptions>(), options, io);
    });
}

async function runWorker(globals: GlobalOptions, options: WorkerOptions, io: CliIO): Promise<void> {
  const timeout = options.shutdownTimeout;
  const reserve = Math.min(5_000, Math.round(timeout / 4));
  let stopSignal: string | undefined;
  let firstAt = 0;
  let stopRequested: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (stopRequested = resolve));
  // The bound runs from the first signal, even one that arrives while the worker is still starting.
  let hardStop: ReturnType<typeof setTimeout> | undefined;
  const onSignal = (signal: string) => {
    if (stopSignal === undefined) {
      stopSignal = signal;
      firstAt = Date.now();
      logLine(io.out, 'info', `worker: ${signal} received: no new claims; waiting up to ${formatDuration(timeout - reserve)} for attempts in flight`);
      hardStop = setTimeout(() => {
        logLine(io.err, 'error', `[messagebox] worker: still busy after the shutdown timeout (${formatDuration(timeout)}): exiting; messages still claimed are taken over after their lease expires`);
        process.exit(ExitCode.failed);
      }, timeout);
      hardStop.unref();
      return stopRequested(signal);
    }
    if (Date.now() - firstAt < REPEAT_SIGNAL_WINDOW_MS) return;
    logLine(io.err, 'error', `[messagebox] ${signal} received again: exiting now; messages still claimed are taken over after their lease expires`);
    process.exit(ExitCode.failed);
  };
  const listeners = SIGNALS.map((signal) => {
    const listener = () => onSignal(signal);
    process.on(signal, listener);
    return () => process.off(signal, listener);
  });
  let config: Awaited<ReturnType<typeof loadConfig>> | undefined;
  let closed = false;
  const close = async () => {
    if (config && !closed) await closeConfig(config, io);
    closed = true;
  };
  try {
    config = await loadConfig({ path: globals.config });
    const outbox = options.only === 'inbox' ? undefined : config.outbox;
    const inbox = options.only === 'outbox' ? undefined : config.inbox;
    if (!outbox && !inbox) {
      throw new CliError(`your config exports no ${options.only ?? 'outbox or inbox'} to run`, { exitCode: ExitCode.config });
    }
    try {
      await Promise.all([outbox?.store.stats(), inbox?.store.stats()]);
    } catch (error) {
      throw explainFailure(error, 'starting the worker');
    }

    const counts = { sent: 0, retried: 0, dead: 0, handled: 0, handlerFailed: 0 };
    const off = [
      outbox?.events.on('sent', () => void counts.sent++),
      outbox?.events.on('failed', () => void counts.retried++),
      outbox?.events.on('dead', () => void counts.dead++),
      inbox?.events.on('handled', () => void counts.handled++),
      inbox?.events.on('handlerFailed', () => void counts.handlerFailed++),
      inbox?.events.on('dead', () => void counts.dead++),
    ];
    const reportLine = () => `sent ${counts.sent}, to retry ${counts.retried}, handled ${counts.handled}, handler failures ${counts.handlerFailed}, dead ${counts.dead}`;
    let lastReport = '';
    const reporter = setInterval(() => {
      const line = reportLine();
      if (line !== lastReport) logLine(io.out, 'info', `worker: ${line}`);
      lastReport = line;
    }, options.reportInterval);
    reporter.unref();

    if (!stopSignal) {
      try {
        await outbox?.start();
        await inbox?.start();
      } catch (error) {
        throw explainFailure(error, 'starting the worker');
      }
      const parts = [outbox && `outbox (${outbox.types().join(', ') || 'no types configured'})`, inbox && 'inbox'].filter(Boolean);
      logLine(io.out, 'info', `worker started: ${parts.join(' and ')}; pid ${process.pid}; stop with SIGTERM or Ctrl+C`);
    }

    await stopped;
    const [outboxInTime, inboxInTime] = await Promise.all([
      outbox ? outbox.stop({ timeoutMs: Math.max(1, timeout - reserve) }) : true,
      inbox ? inbox.stop({ timeoutMs: Math.max(1, timeout - reserve) }) : true,
    ]);
    clearInterval(reporter);
    for (const unsubscribe of off) unsubscribe?.();
    await close();
    clearTimeout(hardStop);
    logLine(io.out, 'info', `worker: ${reportLine()}`);
    if (!outboxInTime || !inboxInTime) {
      throw new CliError('worker stopped, but some attempts were still running at the shutdown timeout and were aborted; they are retried later', {
        exitCode: ExitCode.failed,
      });
    }
    logLine(io.out, 'info', 'worker stopped cleanly');
  } finally {
    await close();
    clearTimeout(hardStop);
    for (const remove of listeners) remove();
  }
}
