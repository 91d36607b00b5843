/**
 * Small text tools for the offline suggester: tokens with light stemming, and a TF-IDF index searched by
 * cosine similarity. Pure functions, no I/O.
 */

const STOPWORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below between both but by
  can could did do does doing down during each few for from further had has have having he her here hers him his how i if
  in into is it its itself just me more most my no nor not now of off on once only or other our ours out over own same she
  should so some such than that the their theirs them then there these they this those through to too under until up very
  was we were what when where which while who whom why will with would you your yours yourself hi hello hey please thanks
  thank dear regards ok okay also get got im ive dont cant wont didnt doesnt isnt`.split(/\s+/),
);

/** Lower-case word tokens without stopwords, lightly stemmed (plural and common verb endings). */
export function tokenize(text: string): string[] {
  const words = text.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/'/g, '').match(/[a-z0-9]+/g) ?? [];
  const tokens: string[] = [];
  for (const word of words) {
    if (word.length < 2 || STOPWORDS.has(word)) continue;
    tokens.push(stem(word));
  }
  return tokens;
}

function stem(word: string): string {
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 4 && word.endsWith('ies')) return word.slice(0, -3) + 'y';
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

export interface Scored<T> {
  readonly value: T;
  readonly score: number;
}

/** Documents indexed by TF-IDF; `search` ranks them by cosine similarity with a query. */
export class TfIdfIndex<T> {
  private readonly idf = new Map<string, number>();
  /** Weight of a query term no document has: the rarest possible (it dilutes the match, as it should). */
  private readonly unseenIdf: number;
  private readonly vectors: Array<{ weights: Map<string, number>; norm: number; value: T }> = [];

  constructor(documents: ReadonlyArray<{ readonly text: string; readonly value: T }>) {
    const tokenized = documents.map((d) => ({ tokens: tokenize(d.text), value: d.value }));
    const df = new Map<string, number>();
    for (const { tokens } of tokenized) for (const term of new Set(tokens)) df.set(term, (df.get(term) ?? 0) + 1);
    const n = tokenized.length;
    this.unseenIdf = Math.log(1 + n) + 1;
    for (const [term, count] of df) this.idf.set(term, Math.log((1 + n) / (1 + count)) + 1);
    for (const { tokens, value } of tokenized) {
      if (tokens.length === 0) continue;
      const weights = this.weigh(tokens);
      this.vectors.push({ weights, norm: norm(weights), value });
    }
  }

  get size(): number {
    return this.vectors.length;
  }

  search(query: string, limit: number): Scored<T>[] {
    const tokens = tokenize(query);
    if (tokens.length === 0 || this.vectors.length === 0) return [];
    const q = this.weigh(tokens);
    const qNorm = norm(q);
    if (qNorm === 0) return [];
    const scored: Scored<T>[] = [];
    for (const doc of this.vectors) {
      let dot = 0;
      for (const [term, weight] of q) dot += weight * (doc.weights.get(term) ?? 0);
      if (dot > 0) scored.push({ value: doc.value, score: dot / (qNorm * doc.norm) });
    }
    return scored.sort((a, b) => b.score - a.score).slice(0, limit);
  }

  private weigh(tokens: readonly string[]): Map<string, number> {
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    const weights = new Map<string, number>();
    for (const [term, count] of tf) weights.set(term, (1 + Math.log(count)) * (this.idf.get(term) ?? this.unseenIdf));
    return weights;
  }
}

function norm(weights: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const w of weights.values()) sum += w * w;
  return Math.sqrt(sum);
}
