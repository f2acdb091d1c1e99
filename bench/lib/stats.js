// Small statistics over the runs of a scenario: medians, ranges, paired ratios.

/** The p-quantile (0..1) of an ascending-sorted array, by nearest rank; NaN when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}

export function median(values) {
  const sorted = [...values].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function range(values) {
  const kept = values.filter((v) => !Number.isNaN(v));
  return kept.length ? [Math.min(...kept), Math.max(...kept)] : [NaN, NaN];
}

/** a[i] / b[i] for each run i: pairs measured next to each other share the machine's mood. */
export function pairedRatios(a, b) {
  return a.map((value, i) => value / b[i]);
}

/** Median and range of one measure over runs. */
export function summarize(values) {
  const [min, max] = range(values);
  return { median: median(values), min, max, values };
}
