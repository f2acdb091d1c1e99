// IP networks as an allowlist holds them: parsed and written in one canonical form (so that
// `10.0.0.1` and `10.0.0.1/32` are one entry), and compiled once into a matcher that answers
// whether an address is inside any of them.
import { isIP } from 'node:net';

export interface Network {
  /** Canonical: `10.0.0.0/8`, `2001:db8::/32`; a single address has /32 or /128. */
  text: string;
  family: 4 | 6;
  address: string;
  prefix: number;
}

/** `::ffff:10.0.0.1` is the IPv4 address 10.0.0.1 seen on an IPv6 socket. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The address as 32 or 128 bits. */
function bits(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
  let [head, tail] = address.includes('::') ? address.split('::') : [address, null];
  const words = (text: string | null) => (text ? text.split(':') : []);
  let left = words(head);
  let right = tail === null ? [] : words(tail);
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) is two words.
  const last = (right.length ? right : left).at(-1);
  if (last?.includes('.')) {
    const v4 = bits(last, 4);
    const pair = [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    if (right.length) right = [...right.slice(0, -1), ...pair];
    else left = [...left.slice(0, -1), ...pair];
  }
  const all = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((n, word) => (n << 16n) | BigInt(parseInt(word, 16)), 0n);
}

/** The canonical text of a valid address (IPv6 compressed and lowercase, as URL hosts are written). */
function canonical(address: string, family: 4 | 6): string {
  return family === 4 ? address : new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/**
 * An IP address or CIDR network, or the reason it is not one. A network with bits set past its
 * prefix (`10.0.0.1/8`) is refused, as Prefect's client refuses it: the intended range is unclear.
 */
export function parseNetwork(value: string): Network | string {
  const [raw, prefixText, extra] = value.trim().split('/');
  const address = raw ?? '';
  const family = isIP(address);
  if (extra !== undefined || (family !== 4 && family !== 6) || address.includes('%')) return `${JSON.stringify(value)} is not an IP address or CIDR network (such as 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32)`;
  const width = family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return `${JSON.stringify(value)} has no valid prefix length after the slash`;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (prefix > width) return `${JSON.stringify(value)}: an IPv${family} prefix length is at most ${width}`;
  const hostBits = (1n << BigInt(width - prefix)) - 1n;
  if ((bits(address, family) & hostBits) !== 0n) return `${JSON.stringify(value)} has host bits set: write the network's first address, such as ${networkOf(address, family, prefix)}/${prefix}`;
  const text = `${canonical(address, family)}/${prefix}`;
  return { text, family, address: canonical(address, family), prefix };
}

function networkOf(address: string, family: 4 | 6, prefix: number): string {
  const width = family === 4 ? 32 : 128;
  const masked = (bits(address, family) >> BigInt(width - prefix)) << BigInt(width - prefix);
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((masked >> shift) & 0xffn)).join('.');
  const words = Array.from({ length: 8 }, (_, i) => ((masked >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return canonical(words.join(':'), 6);
}

/** Answers whether an address is inside any of the networks; built once per allowlist. */
export type AddressMatcher = (address: string) => boolean;

/** Addresses remembered per matcher: callers come from few addresses, each asked on every request. */
const REMEMBERED_ADDRESSES = 1_024;
const MAPPED_V4 = 0xffffn << 32n;

/**
 * A matcher for these networks. Every request of an account that enforces its allowlist asks it, so
 * it answers from what it remembers for an address it has seen, and otherwise compares the
 * address's bits with each network's (node:net's BlockList took 30-65 µs a check on Node 20, more
 * than the rest of the request). The remembered answers go with the matcher: a changed allowlist
 * compiles a new one.
 */
export function compileNetworks(networks: readonly Network[]): AddressMatcher {
  const compiled = networks.map((network) => {
    const width = network.family === 4 ? 32 : 128;
    const mask = ((1n << BigInt(network.prefix)) - 1n) << BigInt(width - network.prefix);
    return { family: network.family, mask, bits: bits(network.address, network.family) & mask };
  });
  const answers = new Map<string, boolean>();
  const inside = (address: string): boolean => {
    // A zone (`fe80::1%eth0`) names an interface, not part of the address.
    const bare = plainAddress(address).replace(/%.*$/, '');
    const family = isIP(bare);
    if (family !== 4 && family !== 6) return false;
    const value = bits(bare, family);
    // As node:net's BlockList (which this replaced) answers: an IPv4 address is also inside an IPv6
    // network that holds its mapped form (::ffff:a.b.c.d), e.g. ::/0.
    const mapped = family === 4 ? MAPPED_V4 | value : null;
    return compiled.some((network) =>
      network.family === family ? (value & network.mask) === network.bits : mapped !== null && (mapped & network.mask) === network.bits,
    );
  };
  return (address) => {
    let answer = answers.get(address);
    if (answer === undefined) {
      answer = inside(address);
      if (answers.size >= REMEMBERED_ADDRESSES) answers.clear();
      answers.set(address, answer);
    }
    return answer;
  };
}
