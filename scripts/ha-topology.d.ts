// Types for scripts/ha-topology.js, for the suites that import it.
export const PATRONI_DCS: { ttl: number; loop_wait: number; retry_timeout: number; primary_start_timeout: number };

export interface HaNode {
  name: string;
  dir: string;
  pgPort: number;
  restPort: number;
}

export interface HaTopology {
  dir: string;
  scope: string;
  nodes: HaNode[];
  etcdUrl: string;
  haproxy: { port: number; statsUrl: string };
  /** The database URL Gatehouse is given: HAProxy's address. */
  url: string;
  /** A node's own address, around HAProxy. */
  nodeUrl(name: string): string;
  logs(): string;
  status(name: string): Promise<any>;
  primary(): Promise<string | null>;
  syncStandby(): Promise<string | null>;
  waitHealthy(ms?: number, primary?: string | null): Promise<string>;
  patronictl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }>;
  killPostgres(name: string): number;
  stop(): Promise<void>;
}

export function patroniConfig(options: { name: string; scope: string; etcdPort: number; restPort: number; pgPort: number; dir: string; pgBin: string }): string;
export function haproxyConfig(options: { port: number; statsPort: number; nodes: HaNode[] }): string;
export function startHaTopology(options?: { database?: string; scope?: string }): Promise<HaTopology>;
