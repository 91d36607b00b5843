/** Reading figures out of a Prometheus text exposition (`GET /metrics`). */

export interface MetricSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Samples by metric name (histogram series keep their `_bucket`/`_sum`/`_count` names). */
export type MetricSamples = ReadonlyMap<string, readonly MetricSample[]>;

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): MetricSamples {
  const samples = new Map<string, MetricSample[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const [, name = '', labelText = '', raw = ''] = match;
    const labels: Record<string, string> = {};
    for (const label of labelText.matchAll(LABEL)) labels[label[1] ?? ''] = label[2] ?? '';
    const list = samples.get(name) ?? [];
    list.push({ labels, value: Number(raw) });
    samples.set(name, list);
  }
  return samples;
}

/** Sum of the samples of `name` whose labels include `where`; NaN when there is none. */
export function metricValue(samples: MetricSamples, name: string, where: Readonly<Record<string, string>> = {}): number {
  const matching = (samples.get(name) ?? []).filter((sample) => Object.entries(where).every(([key, value]) => sample.labels[key] === value));
  return matching.length === 0 ? Number.NaN : matching.reduce((acc, sample) => acc + sample.value, 0);
}
