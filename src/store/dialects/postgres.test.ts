// Which PostgreSQL errors mean "the database cannot serve this now" (503) rather than a bug (500),
// including those a failover produces (docs/high-availability.md). No server needed: the codes are
// the ones PostgreSQL and pg report; test/store-unavailable.test.ts gets a real 25006 from a server.
import { describe, expect, it } from 'vitest';
import { isPostgresUnavailable } from './postgres.js';

const pgError = (code: string, message = 'from the server') => Object.assign(new Error(message), { code });

describe('a store error that a failover or an outage causes is "unavailable"', () => {
  it.each([
    ['25006', 'cannot execute INSERT in a read-only transaction', 'a write reaching a node just demoted to a standby'],
    ['57P01', 'terminating connection due to administrator command', 'the node shutting down for a switchover'],
    ['57P02', 'terminating connection due to crash of another server process', 'the node crashing'],
    ['57P03', 'the database system is starting up', 'the node restarting as a standby'],
    ['08006', 'connection failure', 'a connection lost mid-transaction'],
    ['08001', 'could not connect', 'a connection never made'],
    ['53300', 'sorry, too many clients already', 'no connection slot free'],
    ['ECONNRESET', 'read ECONNRESET', 'a proxy cutting the connection (HAProxy on-marked-down)'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432', 'nothing listening'],
    ['GATEHOUSE_STANDBY', 'The database server is a read-only standby; Gatehouse needs the primary', 'a new connection reaching a standby'],
  ])('%s (%s): %s', (code, message) => {
    expect(isPostgresUnavailable(pgError(code, message))).toBe(true);
  });

  it.each([
    'Connection terminated unexpectedly',
    'Client has encountered a connection error and is not queryable',
    'timeout exceeded when trying to connect',
  ])('pg reporting a lost connection by message only: %s', (message) => {
    expect(isPostgresUnavailable(new Error(message))).toBe(true);
  });
});

describe('an error of the request or of the code is not "unavailable"', () => {
  it.each([
    ['23505', 'a unique violation'],
    ['23503', 'a foreign key violation'],
    ['42P01', 'an undefined table'],
    ['22P02', 'invalid text representation'],
    ['40001', 'a serialization failure'],
    ['25P02', 'a statement in an aborted transaction'],
  ])('%s (%s)', (code) => {
    expect(isPostgresUnavailable(pgError(code))).toBe(false);
  });

  it('an error with no code', () => {
    expect(isPostgresUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isPostgresUnavailable(undefined)).toBe(false);
  });
});
