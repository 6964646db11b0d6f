/**
 * [0, count) cut into exactly `parts` contiguous ranges whose sizes differ by at most `multiple`,
 * every boundary a multiple of `multiple` (but the last); ranges are empty when parts > count.
 */
export function splitRange(count: number, parts: number, multiple = 1): [number, number][] {
  const units = Math.ceil(count / multiple);
  const ranges: [number, number][] = [];
  for (let i = 0; i < parts; i++) {
    const lo = Math.min(count, Math.floor((i * units) / parts) * multiple);
    const hi = Math.min(count, Math.floor(((i + 1) * units) / parts) * multiple);
    ranges.push([lo, hi]);
  }
  return ranges;
}
