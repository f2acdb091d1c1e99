// The websocket gateway's client address must be the one Fastify gives HTTP requests under the same
// GATEHOUSE_TRUST_PROXY: otherwise a client behind a trusted proxy could pick its own address for
// the key throttle and the per-address socket cap by sending X-Forwarded-For on an upgrade.
import type { IncomingMessage } from 'node:http';
import Fastify from 'fastify';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastifyTrustProxy } from './server.js';
import type { TrustProxy } from '../config.js';
import { clientAddress } from './client-address.js';

const address = fc.oneof(fc.ipV4(), fc.constantFrom('127.0.0.1', '10.1.2.3', '192.168.0.9', '::1', '::ffff:10.0.0.7', 'fe80::1', 'fd00::5', 'not-an-ip'));
const trust = fc.oneof(
  fc.constant<TrustProxy>(false),
  fc.integer({ min: 1, max: 4 }),
  fc.constantFrom<TrustProxy>(['127.0.0.1'], ['10.0.0.0/8', '192.168.0.0/16'], ['loopback'], ['uniquelocal', '::1'], ['linklocal']),
);

function request(remote: string, forwarded: string[] | null): IncomingMessage {
  return { socket: { remoteAddress: remote }, headers: forwarded === null ? {} : { 'x-forwarded-for': forwarded.join(', ') } } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  it('agrees with Fastify request.ip for every trust setting and X-Forwarded-For chain', async () => {
    await fc.assert(
      fc.asyncProperty(trust, fc.constantFrom('127.0.0.1', '10.0.0.2', '203.0.113.9', '::1'), fc.option(fc.array(address, { minLength: 1, maxLength: 5 }), { nil: null }), async (setting, remote, forwarded) => {
        const app = Fastify({ trustProxy: fastifyTrustProxy(setting) });
        app.get('/', async (req) => req.ip);
        const res = await app.inject({ method: 'GET', url: '/', remoteAddress: remote, headers: forwarded === null ? {} : { 'x-forwarded-for': forwarded.join(', ') } });
        await app.close();
        expect(clientAddress(setting)(request(remote, forwarded))).toBe(res.body);
      }),
      { numRuns: 300 },
    );
  });

  it('with one trusted hop, a client cannot choose its address by writing X-Forwarded-For itself', () => {
    // nginx's $proxy_add_x_forwarded_for appends the address it saw to what the client sent.
    expect(clientAddress(1)(request('127.0.0.1', ['6.6.6.6', '203.0.113.9']))).toBe('203.0.113.9');
    expect(clientAddress(['127.0.0.1'])(request('127.0.0.1', ['6.6.6.6', '203.0.113.9']))).toBe('203.0.113.9');
    expect(clientAddress(['127.0.0.1'])(request('203.0.113.9', ['6.6.6.6']))).toBe('203.0.113.9');
    expect(clientAddress(false)(request('203.0.113.9', ['6.6.6.6']))).toBe('203.0.113.9');
  });
});
