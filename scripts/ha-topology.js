// The tested high-availability PostgreSQL topology (docs/high-availability.md): one etcd, two
// PostgreSQL 15 nodes managed by Patroni with synchronous_mode, and HAProxy in front sending
// connections to whichever node Patroni's REST API says is the primary (`GET /primary`). Everything
// runs from Debian's packages (scripts/ensure-ha.js) on free 127.0.0.1 ports, with its data,
// configuration and logs in one temp folder, and is stopped and removed by stop(): the machine's
// own PostgreSQL cluster (port 5432) is never touched.
//
// As root (CI), PostgreSQL refuses to run as root: Patroni, and so PostgreSQL, runs as the
// `postgres` user, as scripts/postgres.js's cluster does; etcd and HAProxy run as the caller.
//
// `node scripts/ha-topology.js` starts one, prints its addresses, and stops it on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { HA_BINARIES } from './ensure-ha.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on now (the kernel's pick); the topology needs eight. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The Patroni timings the suite runs with; docs/high-availability.md explains each. */
export const PATRONI_DCS = {
  ttl: 20,
  loop_wait: 1,
  retry_timeout: 5,
  // A crashed primary is not restarted in place: its synchronous standby is promoted at once.
  primary_start_timeout: 0,
};

/** A node's Patroni configuration (YAML). */
export function patroniConfig({ name, scope, etcdPort, restPort, pgPort, dir, pgBin }) {
  return `scope: ${scope}
name: ${name}

restapi:
  listen: 127.0.0.1:${restPort}
  connect_address: 127.0.0.1:${restPort}

etcd3:
  hosts: 127.0.0.1:${etcdPort}

bootstrap:
  dcs:
    ttl: ${PATRONI_DCS.ttl}
    loop_wait: ${PATRONI_DCS.loop_wait}
    retry_timeout: ${PATRONI_DCS.retry_timeout}
    primary_start_timeout: ${PATRONI_DCS.primary_start_timeout}
    maximum_lag_on_failover: 1048576
    # A commit returns only once the standby has it; only a synchronous standby is promoted.
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        # remote_apply: a commit (a key revoked) is visible on the standby before it returns,
        # so a connection that still reaches the old primary after its demotion reads it too.
        synchronous_commit: remote_apply
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 100
  initdb:
    - encoding: UTF8
    - data-checksums
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust

postgresql:
  listen: 127.0.0.1:${pgPort}
  connect_address: 127.0.0.1:${pgPort}
  data_dir: ${dir}/data
  bin_dir: ${pgBin}
  pgpass: ${dir}/pgpass
  authentication:
    superuser:
      username: postgres
    replication:
      username: replicator
    rewind:
      username: postgres
  parameters:
    unix_socket_directories: ${dir}
`;
}

/** HAProxy's configuration: Gatehouse's database URL names the `postgres` listener. */
export function haproxyConfig({ port, statsPort, nodes }) {
  return `global
    maxconn 400

defaults
    mode tcp
    retries 2
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 1s

# Only the node whose Patroni answers 200 on /primary gets connections. When a node stops being the
# primary its connections are cut at once (on-marked-down shutdown-sessions), so no session keeps
# writing to a demoted node.
listen postgres
    bind 127.0.0.1:${port}
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 500ms fastinter 250ms fall 2 rise 1 on-marked-down shutdown-sessions
${nodes.map((n) => `    server ${n.name} 127.0.0.1:${n.pgPort} maxconn 150 check port ${n.restPort}`).join('\n')}

listen stats
    mode http
    bind 127.0.0.1:${statsPort}
    stats enable
    stats uri /
`;
}

function postgresUser() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout);
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout);
  if (!uid) throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as (install Debian\'s postgresql package)');
  return { uid, gid };
}

/**
 * Where the scratch folder goes: GATEHOUSE_HA_DIR, else the temp folder, else /var/tmp when the
 * temp folder is private to root (as on this kind of machine) and PostgreSQL's user cannot enter it.
 */
function scratchBase(user) {
  if (process.env.GATEHOUSE_HA_DIR) return process.env.GATEHOUSE_HA_DIR;
  if (user.uid === undefined) return tmpdir();
  const canEnter = (path) => spawnSync('/usr/bin/test', ['-x', path], { uid: user.uid, gid: user.gid }).status === 0;
  return canEnter(tmpdir()) ? tmpdir() : '/var/tmp';
}

function chownTree(path, { uid, gid }) {
  if (uid === undefined) return;
  chownSync(path, uid, gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) chownTree(join(path, entry.name), { uid, gid });
    else chownSync(join(path, entry.name), uid, gid);
  }
}

async function get(url, timeoutMs = 1_000) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body };
  } catch (error) {
    return { status: 0, body: String(error?.message ?? error) };
  }
}

/** Polls `check` until it returns a truthy value; throws `what` with the logs' tails after `ms`. */
async function until(check, ms, what, logs = () => '') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms\n${logs()}`);
    await sleep(100);
  }
}

/**
 * Starts the topology; resolves once node1 is the primary, node2 its synchronous standby, and a
 * write through HAProxy commits. `database` is created on it.
 */
export async function startHaTopology({ database = 'gatehouse', scope = 'gatehouse-ha' } = {}) {
  const user = postgresUser();
  const dir = mkdtempSync(join(scratchBase(user), 'gatehouse-ha-'));
  const pgBin = HA_BINARIES.postgres.replace(/\/postgres$/, '');
  const [etcdPort, etcdPeerPort, haPort, statsPort, ...nodePorts] = await Promise.all(Array.from({ length: 8 }, freePort));
  const nodes = ['node1', 'node2'].map((name, i) => ({
    name,
    dir: join(dir, name),
    pgPort: nodePorts[2 * i],
    restPort: nodePorts[2 * i + 1],
    process: null,
  }));
  const children = new Set();
  const logFile = (name) => join(dir, `${name}.log`);
  const tail = (name, lines = 30) => (existsSync(logFile(name)) ? readFileSync(logFile(name), 'utf8').split('\n').slice(-lines).join('\n') : '');
  const logs = () => ['etcd', ...nodes.map((n) => n.name), 'haproxy'].map((name) => `--- ${name}.log (last lines)\n${tail(name)}`).join('\n');

  const run = (name, command, args, options = {}) => {
    const fd = openSync(logFile(name), 'a');
    const child = spawn(command, args, { stdio: ['ignore', fd, fd], ...options });
    closeSync(fd);
    children.add(child);
    child.on('exit', () => children.delete(child));
    return child;
  };

  const topology = {
    dir,
    scope,
    nodes,
    etcdUrl: `http://127.0.0.1:${etcdPort}`,
    haproxy: { port: haPort, statsUrl: `http://127.0.0.1:${statsPort}/` },
    /** The database URL Gatehouse is given: HAProxy's address. */
    url: `postgres://postgres@127.0.0.1:${haPort}/${database}`,
    /** A node's own address, around HAProxy. */
    nodeUrl: (name) => `postgres://postgres@127.0.0.1:${node(name).pgPort}/${database}`,
    logs,
    /** Patroni's view of one node (`GET /patroni`): role, state, timeline. */
    status: async (name) => (await get(`http://127.0.0.1:${node(name).restPort}/patroni`)).body,
    /** The node whose Patroni answers 200 on /primary now, or null. */
    async primary() {
      for (const n of nodes) if ((await get(`http://127.0.0.1:${n.restPort}/primary`)).status === 200) return n.name;
      return null;
    },
    /** The node whose Patroni answers 200 on /sync (the synchronous standby), or null. */
    async syncStandby() {
      for (const n of nodes) if ((await get(`http://127.0.0.1:${n.restPort}/sync`)).status === 200) return n.name;
      return null;
    },
    /** Waits until one node is the primary and the other its synchronous standby; returns the primary. */
    async waitHealthy(ms = 60_000, other = null) {
      return until(async () => {
        const primary = await topology.primary();
        if (!primary || (other && primary !== other)) return null;
        const sync = await topology.syncStandby();
        return sync && sync !== primary ? primary : null;
      }, ms, 'the topology did not come back to a primary with a synchronous standby', logs);
    },
    /** `patronictl` against this cluster (a node's configuration file); the caller's event loop keeps running. */
    patronictl(args) {
      return new Promise((resolve) => {
        const child = spawn(HA_BINARIES.patronictl, ['-c', join(nodes[0].dir, 'patroni.yml'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    },
    /** SIGKILLs a node's postmaster (a crash of PostgreSQL, not of its machine); Patroni lives. */
    killPostgres(name) {
      const pid = postmasterPid(node(name));
      if (!pid) throw new Error(`${name} has no running postmaster`);
      process.kill(pid, 'SIGKILL');
      return pid;
    },
    async stop() {
      for (const child of children) if (child !== etcd) child.kill('SIGTERM');
      const waitExit = (child, ms) => (child.exitCode !== null || child.signalCode !== null ? true : Promise.race([new Promise((r) => child.once('exit', () => r(true))), sleep(ms).then(() => false)]));
      await Promise.all([...children].filter((c) => c !== etcd).map(async (child) => (await waitExit(child, 15_000)) || child.kill('SIGKILL')));
      // A postmaster whose Patroni was killed outlives it.
      for (const n of nodes) {
        const pid = postmasterPid(n);
        if (pid) {
          try {
            process.kill(pid, 'SIGQUIT');
          } catch {
            // already gone
          }
        }
      }
      for (const n of nodes) await until(() => !postmasterPid(n), 10_000, `${n.name}'s postmaster did not stop`).catch(() => {});
      if (etcd.exitCode === null) {
        etcd.kill('SIGTERM');
        if (!(await waitExit(etcd, 5_000))) etcd.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const node = (name) => {
    const found = nodes.find((n) => n.name === name);
    if (!found) throw new Error(`no node ${name}`);
    return found;
  };

  const etcd = run('etcd', HA_BINARIES.etcd, [
    '--name', 'etcd1',
    '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', topology.etcdUrl,
    '--advertise-client-urls', topology.etcdUrl,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeerPort}`,
    '--initial-cluster', `etcd1=http://127.0.0.1:${etcdPeerPort}`,
    '--initial-cluster-state', 'new',
    '--logger', 'zap',
    '--log-level', 'warn',
  ]);
  try {
    await until(async () => (await get(`${topology.etcdUrl}/health`)).body?.health === 'true', 20_000, 'etcd did not answer healthy', logs);
    for (const n of nodes) {
      mkdirSync(n.dir, { mode: 0o700 });
      writeFileSync(join(n.dir, 'patroni.yml'), patroniConfig({ name: n.name, scope, etcdPort, restPort: n.restPort, pgPort: n.pgPort, dir: n.dir, pgBin }));
    }
    // PostgreSQL's user must reach the folders: the temp folder is the caller's and private.
    chownTree(dir, user);
    const startNode = (n) => {
      n.process = run(n.name, HA_BINARIES.patroni, [join(n.dir, 'patroni.yml')], {
        ...user,
        env: { PATH: process.env.PATH, HOME: n.dir, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
        cwd: n.dir,
      });
    };
    // The first node bootstraps the cluster (initdb); the second copies it (pg_basebackup).
    const alive = (n) => {
      if (n.process.exitCode !== null) throw new Error(`Patroni on ${n.name} exited (${n.process.exitCode})\n${logs()}`);
    };
    startNode(nodes[0]);
    await until(async () => (alive(nodes[0]), (await topology.primary()) === 'node1'), 60_000, 'node1 did not become the primary', logs);
    startNode(nodes[1]);
    await until(async () => (nodes.forEach(alive), (await topology.syncStandby()) === 'node2'), 90_000, 'node2 did not become the synchronous standby', logs);

    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig({ port: haPort, statsPort, nodes }));
    run('haproxy', HA_BINARIES.haproxy, ['-f', join(dir, 'haproxy.cfg'), '-db']);
    await until(async () => {
      const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${haPort}/postgres`, connectionTimeoutMillis: 1_000 });
      try {
        await client.connect();
        const { rows } = await client.query('select pg_is_in_recovery() as standby');
        if (rows[0].standby) return false;
        const found = await client.query('select 1 from pg_database where datname = $1', [database]);
        if (found.rowCount === 0) await client.query(`create database "${database.replaceAll('"', '""')}"`);
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => {});
      }
    }, 30_000, 'HAProxy did not reach the primary', logs);
  } catch (error) {
    await topology.stop().catch(() => {});
    throw error;
  }
  return topology;
}

function postmasterPid(n) {
  const file = join(n.dir, 'data', 'postmaster.pid');
  if (!existsSync(file)) return 0;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  if (!pid) return 0;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return 0;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const topology = await startHaTopology();
  console.log(`HA topology up in ${Date.now() - started} ms (folder ${topology.dir})`);
  console.log(`  Gatehouse database URL (HAProxy): ${topology.url}`);
  for (const n of topology.nodes) console.log(`  ${n.name}: PostgreSQL 127.0.0.1:${n.pgPort}, Patroni REST http://127.0.0.1:${n.restPort}/`);
  console.log(`  etcd ${topology.etcdUrl}; HAProxy stats ${topology.haproxy.statsUrl}`);
  console.log(`  patronictl -c ${join(topology.nodes[0].dir, 'patroni.yml')} list`);
  const stop = async () => {
    console.log('stopping…');
    await topology.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (process.argv.includes('--check')) await stop();
}
