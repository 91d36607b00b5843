import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type Reading = number | Readonly<Record<string, number>>;

/**
 * The server's Prometheus registry. Hot paths bump plain counters (Stats); metrics read them at scrape time,
 * so a message costs a field increment, not a metrics call.
 */
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor(options: { readonly defaultMetrics: boolean }) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'uhs_' });
  }

  /** A counter whose value is read from `read` at scrape time; a record reading becomes one series per label. */
  counter(name: string, help: string, read: () => Reading, labelName = 'kind'): void {
    new Counter({
      name,
      help,
      labelNames: [labelName],
      registers: [this.registry],
      collect() {
        this.reset();
        setReading(read(), labelName, (labels, value) => (labels ? this.inc(labels, value) : this.inc(value)));
      },
    });
  }

  gauge(name: string, help: string, read: () => Reading, labelName = 'kind'): void {
    new Gauge({
      name,
      help,
      labelNames: [labelName],
      registers: [this.registry],
      collect() {
        this.reset();
        setReading(read(), labelName, (labels, value) => (labels ? this.set(labels, value) : this.set(value)));
      },
    });
  }

  histogram(name: string, help: string, buckets: number[]): Histogram {
    return new Histogram({ name, help, buckets, registers: [this.registry] });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function setReading(reading: Reading, labelName: string, apply: (labels: Record<string, string> | undefined, value: number) => void): void {
  if (typeof reading === 'number') {
    apply(undefined, reading);
    return;
  }
  for (const [label, value] of Object.entries(reading)) apply({ [labelName]: label }, value);
}
