/** A pending task from a Scheduler; `cancel` is idempotent. */
export interface ScheduledTask {
  cancel(): void;
}

/**
 * Timers, injected beside Clock wherever a deadline or a period matters, so tests fire them by
 * advancing a fake time instead of sleeping. Tasks never keep the process alive (unref'd).
 */
export abstract class Scheduler {
  /** Runs `task` once, `delayMs` from now. */
  abstract after(delayMs: number, task: () => void): ScheduledTask;
  /** Runs `task` every `intervalMs`, the first time `intervalMs` from now. */
  abstract every(intervalMs: number, task: () => void): ScheduledTask;
}

export class SystemScheduler extends Scheduler {
  after(delayMs: number, task: () => void): ScheduledTask {
    const timer = setTimeout(task, delayMs).unref();
    return { cancel: () => clearTimeout(timer) };
  }

  every(intervalMs: number, task: () => void): ScheduledTask {
    const timer = setInterval(task, intervalMs).unref();
    return { cancel: () => clearInterval(timer) };
  }
}
