// Scenario 6, memory: resident size (VmRSS) of each Gatehouse process after the other scenarios,
// the one serving the large store above all.
import { check, checksTable, int, mib, table } from '../lib/report.js';

export async function memoryScenario(ctx) {
  const { options, main, large, baselines } = ctx;
  const rows = [];
  if (large) rows.push([`Gatehouse, ${int(options.largeKeys)} keys`, mib(large.gh.rss())]);
  rows.push([`Gatehouse, ${int(main.serviceAccounts)} service accounts`, mib(main.gh.rss())]);
  rows.push(['bare node:http (for scale)', mib(baselines.bare.rss())]);
  const checks = [];
  if (large) {
    const rss = large.gh.rss();
    const full = options.largeKeys >= 1_000_000;
    checks.push(check(`T6 resident memory with ${int(options.largeKeys)} keys`, '≤ 300 MB', `${(rss / 1e6).toFixed(0)} MB`, full ? rss <= 300e6 : null));
  }
  ctx.section('Target 6: memory', [
    `Resident set size (VmRSS from /proc/<pid>/status) of each server process after the scenarios above${large ? '' : ' (the large store was not set up in this run)'}.`,
    '',
    table(['process', 'resident size'], rows),
    '',
    checks.length ? checksTable(checks) : '',
  ]);
  return checks;
}
