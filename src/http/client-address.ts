// The client's address for requests Fastify does not route (websocket upgrades): the same answer
// as Fastify's request.ip under GATEHOUSE_TRUST_PROXY. X-Forwarded-For is read from the right, one
// entry per trusted hop, so a client's own entries further left are never believed.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { TrustProxy } from '../config.js';

const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** `::ffff:10.0.0.1` is the IPv4 address 10.0.0.1 seen on an IPv6 socket (trusted as such, reported as given). */
const plain = (address: string) => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

function trustedAddresses(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries.flatMap((e) => NAMED_RANGES[e] ?? [e])) {
    const [address, prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

export function clientAddress(trust: TrustProxy | undefined): (request: IncomingMessage) => string {
  if (trust === undefined || trust === false || trust === 0) return (request) => request.socket.remoteAddress ?? '';
  const list = typeof trust === 'number' ? null : trustedAddresses(trust);
  const trusted = (address: string, hop: number) => {
    if (list === null) return hop < (trust as number);
    const bare = plain(address);
    const family = isIP(bare);
    return family !== 0 && list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
  };
  return (request) => {
    let address = request.socket.remoteAddress ?? '';
    const header = request.headers['x-forwarded-for'];
    if (!header) return address;
    const hops = String(header).split(',').map((entry) => entry.trim()).reverse();
    for (const [hop, next] of hops.entries()) {
      if (!trusted(address, hop)) break;
      address = next;
    }
    return address;
  };
}
