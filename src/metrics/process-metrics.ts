import { collectDefaultMetrics, Registry } from 'prom-client';

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics (CPU, memory, event loop lag, GC, handles), collected once per
 * process and merged into every application's registry.
 *
 * They describe the process, not an application, and collecting them is not free to repeat:
 * each `collectDefaultMetrics` call enables an event-loop-delay monitor and a GC observer that
 * are never released. Several applications in one process (the e2e suites) would each add a
 * pair; sharing one set keeps that cost fixed. The registry itself is never exposed: callers
 * merge it, they do not register into it.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}
