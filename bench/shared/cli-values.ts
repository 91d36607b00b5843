/** Parsing of benchmark command-line values, with errors that name the option. */

export function positive(value: string, name: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: not a positive number: ${value}`);
  return n;
}

export function nonNegative(value: string, name: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number ≥ 0: ${value}`);
  return n;
}

export function positiveInt(value: string, name: string): number {
  const n = positive(value, name);
  if (!Number.isInteger(n)) throw new Error(`--${name}: not an integer: ${value}`);
  return n;
}

/** A comma list of positive numbers. */
export function positiveList(value: string, name: string): number[] {
  const items = value.split(',').filter((item) => item.trim() !== '');
  if (items.length === 0) throw new Error(`--${name} needs at least one value`);
  return items.map((item) => positive(item.trim(), name));
}

/** MIN-MAX, both positive. */
export function range(value: string, name: string): [number, number] {
  const [a, b] = value.split('-').map((part) => positive(part, name));
  if (a === undefined || b === undefined || b < a) throw new Error(`--${name}: expected MIN-MAX, got ${value}`);
  return [a, b];
}
