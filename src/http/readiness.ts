// Readiness: whether this process can serve requests as it should now, for a load balancer or an
// orchestrator's probe (GET /api/ready). /api/health stays the liveness answer Prefect's clients
// expect (true while the process runs).
import type { Coherence } from '../cache/coherence.js';
import type { Store } from '../store/store.js';
import { migrationStatus } from '../store/migrate.js';

/** How long the store may take to answer the probe's query. */
export const READINESS_TIMEOUT_MS = 2_000;

/** What is wrong, one sentence each; empty when ready. */
export async function readinessProblems(store: Store, coherence: Coherence, timeoutMs = READINESS_TIMEOUT_MS): Promise<string[]> {
  const problems: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const status = await Promise.race([migrationStatus(store), timeout]);
    if (status.pending.length) problems.push(`the database lacks migrations ${status.pending.join(', ')}: start one process with this version to apply them`);
    if (status.unknown.length) problems.push(`the database has migrations this version does not know (${status.unknown.join(', ')}): a newer Gatehouse migrated it; run that version`);
  } catch (error) {
    problems.push(`the database (${store.description}) did not answer: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  if (!coherence.disabled && !coherence.trusted()) {
    problems.push(
      store.dialect === 'postgres'
        ? "the cache cannot be sure to hear other processes' writes (its LISTEN connection or lease is down): every request asks the database until it is back"
        : "the cache cannot be sure to hear other processes' writes: every request asks the database until it can",
    );
  }
  return problems;
}
