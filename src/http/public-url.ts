// The address people reach Gatehouse at, for whatever leaves the request: invitation links,
// redirects, the session cookie's Secure flag. It is GATEHOUSE_PUBLIC_URL when configured, else the
// address Gatehouse listens on; never the request's Host or X-Forwarded-Host, which a caller chooses.
import type { AddressInfo } from 'node:net';
import type { FastifyRequest } from 'fastify';

export interface PublicUrl {
  /** Whether GATEHOUSE_PUBLIC_URL is configured. */
  readonly configured: boolean;
  /** The base for absolute links, without a trailing slash, e.g. https://gatehouse.example.com */
  base(): string;
  /** Its host[:port], e.g. gatehouse.example.com */
  host(): string;
  /** Whether the session cookie is Secure: the configured URL's scheme, else https seen on the request. */
  secure(request: FastifyRequest): boolean;
}

/** http://HOST:PORT of a listening server; wildcard and loopback IPv6 addresses read as localhost. */
export function listenUrl(address: AddressInfo | string | null): string {
  if (address === null || typeof address === 'string') return 'http://localhost';
  const wildcard = address.address === '0.0.0.0' || address.address === '::' || address.address === '::1';
  const host = wildcard ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export function publicUrl(configured: string | undefined, listening: () => AddressInfo | string | null): PublicUrl {
  if (configured !== undefined) {
    const base = configured.replace(/\/+$/, '');
    const https = base.toLowerCase().startsWith('https:');
    const host = new URL(base).host;
    return { configured: true, base: () => base, host: () => host, secure: () => https };
  }
  // Known once the server listens (never for in-process requests, which read as localhost).
  let known: { base: string; host: string } | undefined;
  const current = () => {
    if (known) return known;
    const address = listening();
    const base = listenUrl(address);
    const found = { base, host: new URL(base).host };
    if (address !== null && typeof address !== 'string') known = found;
    return found;
  };
  return {
    configured: false,
    base: () => current().base,
    host: () => current().host,
    // Without a configured URL, https can only be known from a trusted proxy's X-Forwarded-Proto.
    secure: (request) => request.protocol === 'https',
  };
}
