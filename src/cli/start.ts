// `gatehouse start`: serve the API until SIGTERM/SIGINT, then drain and exit 0.
import { loadConfig, type ConfigFlags } from '../config.js';
import { startServer } from '../main.js';
import { UsageError, type Flags } from './args.js';

export async function startCommand(given: Flags): Promise<number> {
  const flags = given as ConfigFlags;
  const loaded = loadConfig(flags);
  if (!loaded.ok) throw new UsageError(loaded.error);
  for (const warning of loaded.warnings) console.error(`Warning: ${warning}`);

  // Listen for signals before starting: one that arrives while the server is still starting (it
  // may already be accepting requests) must drain and exit 0 too, not kill the process.
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  keepServingWhenOutputFails();
  const running = await startServer(loaded.config);
  const signal = await signalled;
  console.log(`Received ${signal}: finishing in-flight requests, then stopping`);
  try {
    await running.stop();
  } catch (error) {
    console.error('Error while stopping:', error);
  }
  return 0;
}

/**
 * A server's output going away (`gatehouse start | head`, a log collector that stopped: EPIPE) or
 * filling up (a full disk: ENOSPC) loses lines, never requests: without a listener, the stream's
 * error event would end the process. The access record says itself when it loses lines
 * (http/access-log.ts); the log's own stream is kept alive the same way in `createLogger`.
 */
function keepServingWhenOutputFails(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}
