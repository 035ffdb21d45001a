// A throw-away PostgreSQL 15 cluster for the tests that run the centre on PostgreSQL: initdb and
// pg_ctl on a socket directory of its own, as the postgres user when the tests run as root (as CI
// does: .ci/run installs Debian's postgresql). Never skipped: without the server those tests fail.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCertificateAuthority, issueCertificate } from '../drivers/pki/issue.ts';

/** Debian's server programs, the newest version installed (CVS_ISSUE_PG_BIN names another). */
function serverPrograms(): string {
  if (process.env.CVS_ISSUE_PG_BIN) return process.env.CVS_ISSUE_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name) && existsSync(path.join(root, name, 'bin', 'initdb'))) : [];
  const newest = versions.sort((left, right) => Number(right) - Number(left))[0];
  if (newest === undefined) throw new Error(`no PostgreSQL server in ${root}: install Debian's postgresql (.ci/run does)`);
  return path.join(root, newest, 'bin');
}

const BIN = serverPrograms();

export interface PostgresServer {
  socketDir: string;
  port: number;
  dataDir: string;
  /** The URL of a database on this server. */
  url(database: string): string;
  /** Stops the server, keeping its data: "immediate" is a crash (no shutdown checkpoint). */
  halt(mode: 'fast' | 'immediate'): void;
  /** Starts it again on the same port and socket. */
  resume(): void;
  /** Makes a standby the primary (pg_ctl promote), waiting until it takes writes. */
  promote(): void;
  /** A streaming replica of this server (pg_basebackup), started, named `name` to the primary. */
  startStandby(name: string): Promise<PostgresServer>;
  /**
   * With `startPostgres({ tls: true })`: the URL of a database over TCP on 127.0.0.1 with mutual
   * TLS (sslmode=verify-full, the test CA, a client certificate with CN postgres); the server
   * takes nothing else over TCP (pg_hba: hostssl … cert).
   */
  tlsUrl(database: string, client?: { certificateFile: string; keyFile: string }): string;
  /** The test CA's files, to issue another client certificate in a test (a wrong one). */
  tlsFiles?: { caFile: string; caCertificatePem: string; caKeyPem: string; clientCertificateFile: string; clientKeyFile: string };
  /** A fresh database and its URL (the unix socket, ?host=): empty, or a copy of `template`. */
  createDatabase(name: string, template?: string): string;
  /**
   * Empties every table of a migrated database but its schema bookkeeping, for the next test: a
   * fresh copy costs ~0.5 s (CREATE DATABASE checkpoints). The append-only triggers are what make
   * this a superuser's act (session_replication_role = replica), never the store's.
   */
  emptyTables(database: string): void;
  /** The server's own tool (psql, pg_ctl …) as the cluster's owner. */
  run(tool: string, args: string[]): string;
  stop(): void;
}

/** A port nothing listens on now (the standby test gives a centre its address before it starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function asOwner(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const root = process.getuid?.() === 0;
  const result = root ? spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8' }) : spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${command} could not run (${result.error.message}): install Debian's postgresql`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function must(command: string, args: string[]): string {
  const result = asOwner(command, args);
  if (result.status !== 0) throw new Error(`${path.basename(command)} ${args[0] ?? ''} failed: ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout;
}

function newRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'cvs-pg-'));
  if (process.getuid?.() === 0) chownSync(root, uidOf('postgres'), gidOf('postgres'));
  return root;
}

export async function startPostgres(options: { tls?: boolean } = {}): Promise<PostgresServer> {
  const root = newRoot();
  const data = path.join(root, 'data');
  must(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--locale=C.UTF-8', '-E', 'UTF8']);
  const tls = options.tls ? serverTls(root, data) : undefined;
  return serverOn(root, data, await freePort(), tls);
}

interface ServerTls {
  settings: string;
  files: NonNullable<PostgresServer['tlsFiles']>;
}

/** A test CA, the server's certificate (127.0.0.1) and a client's (CN postgres); TCP only with both. */
function serverTls(root: string, data: string): ServerTls {
  const nowMs = Date.now();
  const span = { validFrom: new Date(nowMs - 86_400_000), validTo: new Date(nowMs + 30 * 86_400_000) };
  const ca = createCertificateAuthority({ subject: { commonName: 'cvs-issue test database CA' }, ...span });
  const server = issueCertificate(ca, { subject: { commonName: '127.0.0.1' }, usage: 'server', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], ...span });
  const client = issueCertificate(ca, { subject: { commonName: 'postgres' }, usage: 'client', ...span });
  const clientDir = path.join(root, 'client');
  must('mkdir', ['-p', clientDir]);
  const write = (file: string, text: string) => {
    writeFileSync(file, text, { mode: 0o600 });
    if (process.getuid?.() === 0) chownSync(file, uidOf('postgres'), gidOf('postgres'));
  };
  write(path.join(data, 'ca.pem'), ca.certificatePem);
  write(path.join(data, 'server.pem'), server.certificatePem);
  write(path.join(data, 'server.key'), server.keyPem);
  // The client's files are the test's (root's when run as root), as a centre's would be its own.
  const clientFiles = { caFile: path.join(clientDir, 'ca.pem'), clientCertificateFile: path.join(clientDir, 'client.pem'), clientKeyFile: path.join(clientDir, 'client.key') };
  writeFileSync(clientFiles.caFile, ca.certificatePem, { mode: 0o600 });
  writeFileSync(clientFiles.clientCertificateFile, client.certificatePem, { mode: 0o600 });
  writeFileSync(clientFiles.clientKeyFile, client.keyPem, { mode: 0o600 });
  // The socket as before (the tests' tools); TCP only with TLS and a certificate the CA issued for the user.
  const hba = path.join(data, 'pg_hba.conf');
  writeFileSync(hba, `local all all trust\nlocal replication all trust\nhostssl all all 127.0.0.1/32 cert\n`);
  if (process.getuid?.() === 0) chownSync(hba, uidOf('postgres'), gidOf('postgres'));
  return {
    settings: " -c listen_addresses='127.0.0.1' -c ssl=on -c ssl_cert_file=server.pem -c ssl_key_file=server.key -c ssl_ca_file=ca.pem",
    files: { ...clientFiles, caCertificatePem: ca.certificatePem, caKeyPem: ca.keyPem },
  };
}

/** Starts the cluster in `data` on `port`, with its socket in ROOT/socket. */
function serverOn(root: string, data: string, port: number, tls?: ServerTls): PostgresServer {
  const socketDir = path.join(root, 'socket');
  must('mkdir', ['-p', socketDir]);
  const settings = tls ? tls.settings : " -c listen_addresses=''";
  const start = () => must(path.join(BIN, 'pg_ctl'), ['-D', data, '-l', path.join(root, 'server.log'), '-w', '-o', `-p ${port} -k ${socketDir}${settings}`, 'start']);
  start();
  const url = (database: string) => `postgresql://postgres@localhost/${database}?host=${socketDir}&port=${port}`;
  let stopped = false;
  const server: PostgresServer = {
    socketDir,
    port,
    dataDir: data,
    url,
    tlsUrl(database, client) {
      if (!tls) throw new Error('this test server was started without TLS');
      const files = client ?? { certificateFile: tls.files.clientCertificateFile, keyFile: tls.files.clientKeyFile };
      const query = new URLSearchParams({ sslmode: 'verify-full', sslrootcert: tls.files.caFile, sslcert: files.certificateFile, sslkey: files.keyFile });
      return `postgresql://postgres@127.0.0.1:${port}/${database}?${query.toString()}`;
    },
    ...(tls ? { tlsFiles: tls.files } : {}),
    halt: (mode) => void must(path.join(BIN, 'pg_ctl'), ['-D', data, '-m', mode, '-w', 'stop']),
    resume: start,
    promote: () => void must(path.join(BIN, 'pg_ctl'), ['-D', data, '-w', 'promote']),
    async startStandby(name) {
      const standbyRoot = newRoot();
      const standbyData = path.join(standbyRoot, 'data');
      // -R: standby.signal and primary_conninfo; the name is how synchronous_standby_names knows it.
      must(path.join(BIN, 'pg_basebackup'), ['-D', standbyData, '-d', `host=${socketDir} port=${port} user=postgres application_name=${name}`, '-X', 'stream', '-R', '-c', 'fast']);
      return serverOn(standbyRoot, standbyData, await freePort());
    },
    createDatabase(name, template) {
      const copy = template === undefined ? '' : ` TEMPLATE "${template}"`;
      must(path.join(BIN, 'psql'), ['-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-c', `CREATE DATABASE "${name}"${copy}`]);
      return url(name);
    },
    emptyTables(database) {
      // DELETE, not TRUNCATE: on a test's few rows it is ~10 times faster (no new files to sync).
      const sql = `DO $$ DECLARE name text; BEGIN
        SET LOCAL session_replication_role = replica;
        FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('schema_migrations', 'meta') LOOP
          EXECUTE 'DELETE FROM ' || quote_ident(name);
        END LOOP;
      END $$`;
      must(path.join(BIN, 'psql'), ['-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql]);
    },
    run: (tool, args) => must(path.join(BIN, tool), args),
    stop() {
      if (stopped) return;
      stopped = true;
      asOwner(path.join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      rmSync(root, { recursive: true, force: true });
    },
  };
  process.once('exit', () => server.stop());
  return server;
}

function idOf(flag: '-u' | '-g', user: string): number {
  const result = spawnSync('id', [flag, user], { encoding: 'utf8' });
  const id = Number(result.stdout.trim());
  if (result.status !== 0 || !Number.isInteger(id)) throw new Error(`no user "${user}": install Debian's postgresql`);
  return id;
}
const uidOf = (user: string) => idOf('-u', user);
const gidOf = (user: string) => idOf('-g', user);

let shared: Promise<PostgresServer> | undefined;

/**
 * One cluster for every test file of a process (the Node groups and Bun run many files in one), each
 * file with databases of its own names; it stops when the process exits.
 */
export function sharedPostgres(): Promise<PostgresServer> {
  return (shared ??= startPostgres());
}
