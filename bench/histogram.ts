/** Bucket width: each bucket is 1% wider than the previous, so any percentile is within 1%. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** 1.01^2400 µs is about 6 hours: every latency a bench can see. */
const BUCKETS = 2400;

/** Sparse form of a histogram, for IPC and JSON: [bucket index, count] pairs. */
export type SparseHistogram = [number, number][];

/**
 * A log-bucketed latency histogram in microseconds: fixed memory, O(1) per sample, mergeable
 * across processes. Values under 1 µs count as 1 µs.
 */
export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;

  record(micros: number): void {
    const index =
      micros <= 1 ? 0 : Math.min(BUCKETS - 1, Math.round(Math.log(micros) / LOG_GROWTH));
    this.counts[index]++;
    this.total++;
  }

  get count(): number {
    return this.total;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  /** The value (µs) at or below which `percent`% of the samples lie; NaN when empty. */
  percentile(percent: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return GROWTH ** i;
    }
    return GROWTH ** (BUCKETS - 1);
  }

  toSparse(): SparseHistogram {
    const sparse: SparseHistogram = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) sparse.push([i, this.counts[i]]);
    return sparse;
  }

  static fromSparse(sparse: SparseHistogram): Histogram {
    const histogram = new Histogram();
    for (const [index, count] of sparse) {
      histogram.counts[index] += count;
      histogram.total += count;
    }
    return histogram;
  }
}
