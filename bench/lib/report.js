// Markdown for the results file and the console: tables, number formats, target checks.

export const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
export const fixed = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
export const micros = (n) => (Number.isFinite(n) ? `${Math.abs(n) < 100 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')} µs` : '–');
export const millis = (n) => (Number.isFinite(n) ? `${n.toFixed(2)} ms` : '–');
export const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const spread = (s, format) => `${format(s.min)}–${format(s.max)}`;

export function table(columns, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(columns), line(columns.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A target of the issue and whether this run met it. */
export function check(name, target, measured, pass) {
  return { name, target, measured, pass };
}

/** Issue 22's targets first, in order (names start "T0 " … "T6 "), then the rest as they came. */
export function byTarget(checks) {
  const key = (c) => {
    const m = /^T(\d+)/.exec(c.name);
    return m ? Number(m[1]) : 99;
  };
  return checks.map((c, i) => [c, i]).sort(([a, i], [b, j]) => key(a) - key(b) || i - j).map(([c]) => c);
}

export function checksTable(checks) {
  return table(
    ['target', 'wanted', 'measured', 'result'],
    checks.map((c) => [c.name, c.target, c.measured, c.pass === null ? 'n/a' : c.pass ? '**pass**' : '**MISS**']),
  );
}

/** The standard throughput table of an interleaved comparison; ratios against `baseline`. */
export function throughputTable(summaries, baseline, ratioTo) {
  return table(
    ['target', 'req/s (median)', 'min–max', '× ' + baseline.label + ' (paired median, min–max)', 'p50', 'p99 (median of runs)', 'server CPU per request', 'load generator CPU', 'failed'],
    summaries.map((s) => {
      const ratio = s === baseline ? null : ratioTo(s, baseline);
      return [
        s.label,
        int(s.rps.median),
        spread(s.rps, int),
        ratio ? `${fixed(ratio.median)}× (${spread(ratio, fixed)})` : 'baseline',
        micros(s.p50.median),
        micros(s.p99.median),
        micros(s.serverCpu.median),
        `${Math.round(s.generatorCpu.median * 100)}%`,
        String(s.failures),
      ];
    }),
  );
}

/** A warning when the load generator, not the server, was the limit of a run. */
export function generatorNote(summaries) {
  const saturated = summaries.filter((s) => s.generatorCpu.median >= 0.9).map((s) => s.label);
  if (saturated.length === 0) return '';
  return `> The load generator used ≥ 90% of its core while measuring ${saturated.join(', ')}: that throughput is a lower bound (the server could do more), and ratios against it are flattered.`;
}
