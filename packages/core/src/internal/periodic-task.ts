/** Runs `task` every `intervalMs` between `start()` and `stop()`; runs never overlap and never keep the process alive. */
export class PeriodicTask {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #current: Promise<void> | undefined;
  #running = false;
  #generation = 0;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(++this.#generation);
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#current;
  }

  #schedule(generation: number): void {
    this.#timer = setTimeout(() => {
      this.#current = this.task().finally(() => {
        this.#current = undefined;
        if (this.#running && generation === this.#generation) this.#schedule(generation);
      });
    }, this.intervalMs);
    (this.#timer as { unref?: () => void }).unref?.();
  }
}
