import { Logger } from '@nestjs/common';
import type { BusListener, BusMessage } from './bus';

/**
 * The local half of every bus: reference-counted listeners per topic. `add` and `remove` report
 * when a topic gains its first or loses its last listener, which is when a networked bus
 * subscribes or unsubscribes upstream.
 */
export class ListenerTable {
  private readonly topics = new Map<string, Map<BusListener, number>>();

  constructor(private readonly logger: Logger) {}

  /** Returns true when `topic` had no listener before. */
  add(topic: string, listener: BusListener): boolean {
    let listeners = this.topics.get(topic);
    const first = listeners === undefined;
    if (!listeners) {
      listeners = new Map();
      this.topics.set(topic, listeners);
    }
    listeners.set(listener, (listeners.get(listener) ?? 0) + 1);
    return first;
  }

  /** Returns true when this removed the topic's last listener. */
  remove(topic: string, listener: BusListener): boolean {
    const listeners = this.topics.get(topic);
    const count = listeners?.get(listener);
    if (!listeners || count === undefined) return false;
    if (count > 1) {
      listeners.set(listener, count - 1);
      return false;
    }
    listeners.delete(listener);
    if (listeners.size > 0) return false;
    this.topics.delete(topic);
    return true;
  }

  /** Calls every listener of the message's topic; one failing listener does not stop the rest. */
  dispatch(message: BusMessage): void {
    const listeners = this.topics.get(message.topic);
    if (!listeners) return;
    for (const listener of listeners.keys()) {
      try {
        listener(message);
      } catch (error) {
        this.logger.error(`Listener on topic "${message.topic}" threw`, error as Error);
      }
    }
  }

  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  topicNames(): IterableIterator<string> {
    return this.topics.keys();
  }

  get size(): number {
    return this.topics.size;
  }
}
