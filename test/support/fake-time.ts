import type { Clock } from '../../src/common/clock';
import type { ScheduledTask, Scheduler } from '../../src/common/scheduler';

interface Task {
  due: number;
  readonly intervalMs?: number;
  readonly run: () => void;
  cancelled: boolean;
}

/**
 * A Clock and a Scheduler that move only when a test calls `advance`, so timer tests are exact
 * and never sleep. `useApp({ time })` puts one in place of the application's system time.
 * It starts at the real time, so tokens signed by a system clock mean the same to it.
 */
export class FakeTime implements Clock, Scheduler {
  private current = Date.now();
  private readonly tasks: Task[] = [];

  now(): number {
    return this.current;
  }

  after(delayMs: number, run: () => void): ScheduledTask {
    return this.add({ due: this.current + delayMs, run, cancelled: false });
  }

  every(intervalMs: number, run: () => void): ScheduledTask {
    return this.add({ due: this.current + intervalMs, intervalMs, run, cancelled: false });
  }

  /** Tasks scheduled and not yet run or cancelled (an interval counts until cancelled). */
  get pending(): number {
    return this.tasks.filter((task) => !task.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, running every task that falls due on the way, in order of its
   * due time, with `now()` set to that time while it runs.
   */
  advance(ms: number): void {
    const end = this.current + ms;
    for (let task = this.nextDue(end); task; task = this.nextDue(end)) {
      this.current = task.due;
      if (task.intervalMs === undefined) task.cancelled = true;
      else task.due += task.intervalMs;
      task.run();
    }
    this.current = end;
    this.prune();
  }

  private add(task: Task): ScheduledTask {
    this.tasks.push(task);
    return {
      cancel: () => {
        task.cancelled = true;
      },
    };
  }

  private nextDue(end: number): Task | undefined {
    let next: Task | undefined;
    for (const task of this.tasks) {
      if (task.cancelled || task.due > end) continue;
      if (!next || task.due < next.due) next = task;
    }
    return next;
  }

  private prune(): void {
    for (let i = this.tasks.length - 1; i >= 0; i--) {
      if (this.tasks[i].cancelled) this.tasks.splice(i, 1);
    }
  }
}
