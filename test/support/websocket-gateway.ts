// A harness listening on a port, with a workspace whose gateway points at a fake Prefect server:
// what the websocket tests open their sockets against.
import type { AppOptions } from '../../src/app.js';
import { startFakePrefect, type FakePrefect } from './fake-prefect.js';
import { startHarness, type Harness } from './harness.js';
import { workspaceWithUpstream } from './members.js';

export interface WebsocketGateway {
  h: Harness;
  fake: FakePrefect;
  owner: { accountId: string; key: string };
  wsId: string;
  port: number;
  /** ws://…/api/accounts/{a}/workspaces/{w}{path} */
  url(path: string): string;
  close(): Promise<void>;
}

export async function startWebsocketGateway(options: Partial<Omit<AppOptions, 'store' | 'clock'>> = {}): Promise<WebsocketGateway> {
  const h = await startHarness(options);
  const fake = await startFakePrefect();
  const owner = await h.bootstrap();
  const wsId = (await workspaceWithUpstream(h, owner, fake.url)).id;
  const address = await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  return {
    h,
    fake,
    owner,
    wsId,
    port: Number(new URL(address).port),
    url: (path) => `${address.replace(/^http/, 'ws')}/api/accounts/${owner.accountId}/workspaces/${wsId}${path}`,
    async close() {
      await h.close();
      await fake.close();
    },
  };
}
