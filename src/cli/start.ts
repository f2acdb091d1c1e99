// `gatehouse start`: serve the API until SIGTERM/SIGINT, then drain and exit 0.
import { loadConfig, type ConfigFlags } from '../config.js';
import { startServer } from '../main.js';
import { parseFlags, storeFlags, UsageError } from './args.js';

export async function startCommand(argv: string[]): Promise<number> {
  const flags = parseFlags<ConfigFlags>(argv, {
    ...storeFlags,
    host: { type: 'string' },
    port: { type: 'string' },
    'log-level': { type: 'string' },
  });
  const loaded = loadConfig(flags);
  if (!loaded.ok) throw new UsageError(loaded.error);
  const running = await startServer(loaded.config);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      console.log(`Received ${signal}: finishing in-flight requests, then stopping`);
      running.stop().then(resolve, (error) => {
        console.error('Error while stopping:', error);
        resolve();
      });
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  return 0;
}
