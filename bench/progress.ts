/** Progress lines of a bench command, on stderr so that stdout carries only the report. */
import type { ThroughputFigures } from './scenarios';

export function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** One progress line for a measured window. */
export function describeThroughput(name: string, figures: ThroughputFigures): void {
  progress(
    `${name}: ${Math.round(figures.rate).toLocaleString('en-US')}/s, p50 ${figures.p50Ms.toFixed(2)} ms, ` +
      `p99 ${figures.p99Ms.toFixed(2)} ms, ${figures.serverCpuUs.toFixed(2)} µs server CPU each ` +
      `(CPU busy: server ${figures.serverCpuPercent.toFixed(0)} %, client ${figures.clientCpuPercent.toFixed(0)} %; ` +
      `other processes ${figures.otherLoadPercent.toFixed(0)} % on the server CPU, ` +
      `${figures.otherClientLoadPercent.toFixed(0)} % on the client CPU)`,
  );
}
