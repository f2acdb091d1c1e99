// The allowlist's address matcher against node:net's BlockList as the oracle: the same answer for
// random networks of both families and random addresses inside and outside them, written every way
// a socket or a proxy can write them (IPv4-mapped IPv6, compressed and full IPv6, upper case).
import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { compileNetworks, parseNetwork, type Network } from './networks.js';

let seed = 22;
const random = (below: number) => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed % below;
};

const v4 = () => Array.from({ length: 4 }, () => random(256)).join('.');
const v6 = () => Array.from({ length: 8 }, () => random(65_536).toString(16)).join(':');

/** A valid network (no host bits) around a random address. */
function network(family: 4 | 6): Network {
  for (;;) {
    const address = family === 4 ? v4() : v6();
    const prefix = random(family === 4 ? 33 : 129);
    const parsed = parseNetwork(`${address}/${prefix}`);
    if (typeof parsed !== 'string') return parsed;
    const first = /write the network's first address, such as (\S+)\//.exec(parsed)?.[1];
    const fixed = first ? parseNetwork(`${first}/${prefix}`) : parsed;
    if (typeof fixed !== 'string') return fixed;
  }
}

/** An address inside `n` (its first address with random host bits), or anywhere. */
function addressNear(n: Network): string {
  if (n.family === 4) {
    const base = n.address.split('.').reduce((a, part) => a * 256 + Number(part), 0);
    const host = n.prefix === 32 ? 0 : random(2 ** Math.min(31, 32 - n.prefix));
    const value = base + host;
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
  }
  const words = new URL(`http://[${n.address}]/`).hostname.slice(1, -1);
  // The last word varies when the prefix leaves it free; the rest stays inside.
  const full = words.includes('::') ? expand(words) : words.split(':');
  if (n.prefix <= 112) full[7] = random(65_536).toString(16);
  return full.join(':');
}

function expand(address: string): string[] {
  const [head, tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  return [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
}

function oracle(networks: Network[]) {
  const list = new BlockList();
  for (const n of networks) list.addSubnet(n.address, n.prefix, n.family === 4 ? 'ipv4' : 'ipv6');
  return (address: string) => {
    const bare = address.startsWith('::ffff:') && /^[\d.]+$/.test(address.slice(7)) ? address.slice(7) : address;
    return list.check(bare, bare.includes(':') ? 'ipv6' : 'ipv4');
  };
}

describe('compileNetworks', () => {
  it('answers as node:net BlockList does for random networks and addresses of both families', () => {
    let inside = 0;
    for (let round = 0; round < 200; round++) {
      const networks = Array.from({ length: 1 + random(6) }, () => network(random(2) ? 4 : 6));
      const matcher = compileNetworks(networks);
      const expected = oracle(networks);
      const candidates = [...networks.map(addressNear), v4(), v6(), ...networks.filter((n) => n.family === 4).map((n) => `::ffff:${addressNear(n)}`)];
      for (const address of candidates) {
        const answer = matcher(address);
        expect(answer, `${address} in ${networks.map((n) => n.text).join(', ')}`).toBe(expected(address));
        // Asked again (the remembered answer) and in upper case (another spelling of one address).
        expect(matcher(address)).toBe(answer);
        expect(matcher(address.toUpperCase())).toBe(answer);
        if (answer) inside++;
      }
    }
    // The generator reached both answers often enough for the comparison to mean something.
    expect(inside).toBeGreaterThan(200);
  });

  it('refuses what is not an address, and ignores an IPv6 zone', () => {
    const matcher = compileNetworks([parseNetwork('10.0.0.0/8'), parseNetwork('fe80::/10')] as Network[]);
    for (const bad of ['', 'unknown', '10.0.0', '10.0.0.1.2', '::ffff:', 'fe80::zz']) expect(matcher(bad), bad).toBe(false);
    expect(matcher('fe80::1%eth0')).toBe(true);
    expect(matcher('::ffff:10.1.2.3')).toBe(true);
    expect(matcher('11.0.0.1')).toBe(false);
  });

  it('keeps answering correctly past the number of addresses it remembers', () => {
    const matcher = compileNetworks([parseNetwork('10.0.0.0/16')] as Network[]);
    for (let i = 0; i < 3_000; i++) {
      expect(matcher(`10.0.${i % 256}.${i % 200}`)).toBe(true);
      expect(matcher(`10.1.${i % 256}.${i % 200}`)).toBe(false);
    }
  });
});
