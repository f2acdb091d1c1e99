// Scenario 2, key count: the authn+authz request on a store with 1,000 service-account keys and on
// one with many more (1,000,000 by default), interleaved. Twice: always the same key (what one
// worker sends), and 1,000 different keys in turn (a fleet of workers), so a cache of recently
// seen keys cannot hide the store's share.
import { interleaved, ratioTo } from '../lib/compare.js';
import { check, checksTable, fixed, int, throughputTable } from '../lib/report.js';

export async function keysScenario(ctx) {
  const { options, main, large } = ctx;
  const scopes = (store) => `/api/me/workspaces/${store.fixture.workspaceId}/scopes`;
  const oneKey = (store) => ({ method: 'GET', path: scopes(store), headers: { authorization: `Bearer ${store.fixture.workerKey}` } });
  const manyKeys = (store) =>
    store.sampleKeys.map((key) => ({ method: 'GET', path: scopes(store), headers: { authorization: `Bearer ${key}` } }));
  const smallLabel = `${int(options.smallKeys)} keys`;
  const largeLabel = `${int(options.largeKeys)} keys`;
  const targets = [
    { label: `${smallLabel}, one key`, url: main.gh.url, request: oneKey(main), servers: [main.gh] },
    { label: `${largeLabel}, one key`, url: large.gh.url, request: oneKey(large), servers: [large.gh] },
    { label: `${smallLabel}, ${int(main.sampleKeys.length)} keys in turn`, url: main.gh.url, requests: manyKeys(main), servers: [main.gh] },
    { label: `${largeLabel}, ${int(large.sampleKeys.length)} keys in turn`, url: large.gh.url, requests: manyKeys(large), servers: [large.gh] },
  ];
  ctx.log(`keys: ${smallLabel} vs ${largeLabel}`);
  const [smallOne, largeOne, smallMany, largeMany] = await interleaved(targets, {
    runs: options.runs,
    duration: options.duration,
    warmup: options.warmup,
    connections: options.connections,
    log: ctx.log,
  });
  const one = ratioTo(largeOne, smallOne);
  const many = ratioTo(largeMany, smallMany);
  const checks = [
    check(`T6 ${largeLabel} vs ${smallLabel}, one key`, '≥ 0.95× (within 5%)', `${fixed(one.median)}×`, one.median >= 0.95),
    check(`T6 ${largeLabel} vs ${smallLabel}, keys in turn`, '≥ 0.95× (within 5%)', `${fixed(many.median)}×`, many.median >= 0.95),
  ];
  if (options.largeKeys < 1_000_000) checks.push(check('T6 store size', '1,000,000 keys', `${largeLabel} (reduced run)`, null));
  ctx.section('Target 6: key count', [
    `The request of target 1 against a store holding ${smallLabel} and one holding ${largeLabel} (service accounts, each with a Member membership and one active key). "Keys in turn": each connection cycles through ${main.sampleKeys.length} different Worker keys spread over the store.`,
    '',
    'One key:',
    '',
    throughputTable([smallOne, largeOne], smallOne, ratioTo),
    '',
    'Keys in turn:',
    '',
    throughputTable([smallMany, largeMany], smallMany, ratioTo),
    '',
    checksTable(checks),
  ]);
  return checks;
}
