/** Milliseconds since the epoch. Injected wherever time matters, so tests control it. */
export abstract class Clock {
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}
