import { Injectable, Logger } from '@nestjs/common';
import { Bus, type BusListener, type BusMessage } from './bus';
import { ListenerTable } from './listener-table';

/**
 * The default bus: one process, no network. Delivery is synchronous, so per-publisher order is
 * the call order and nothing is ever lost while the process lives.
 */
@Injectable()
export class InMemoryBus extends Bus {
  private readonly listeners = new ListenerTable(new Logger(InMemoryBus.name));

  publish(message: BusMessage): void {
    this.listeners.dispatch(message);
  }

  subscribe(topic: string, listener: BusListener): void {
    this.listeners.add(topic, listener);
  }

  unsubscribe(topic: string, listener: BusListener): void {
    this.listeners.remove(topic, listener);
  }

  get connected(): boolean {
    return true;
  }

  get dropped(): number {
    return 0;
  }

  get topicCount(): number {
    return this.listeners.size;
  }
}
