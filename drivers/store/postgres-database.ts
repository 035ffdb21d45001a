// The store's Database port on PostgreSQL (docs/postgres.md). The port is synchronous, as SQLite's
// drivers are; node-postgres runs in a worker thread (postgres-worker.ts) and this thread sleeps on
// a shared flag for each answer, so every caller of the port works unchanged. Writers take one
// transaction-scoped advisory lock: like SQLite's write lock, one writing transaction at a time
// across every process on the database, so the audit log and the checks before each insert see
// everything committed before them.

import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { AppError } from '../../core/errors.ts';
import { isThenable, type Database, type OpenOptions, type RunResult, type SqlParams } from './database.ts';
import { bindValues, translateQuery, translateSchema } from './postgres-dialect.ts';
import type pg from 'pg';

/** What the database thread (postgres-worker.mjs) is started with. */
interface PostgresWorkerInput {
  port: MessagePort;
  /** Index 0: 0 while a request is in flight, 1 once its answer is on the port. */
  flag: Int32Array;
  connection: pg.ClientConfig;
}

/** `deferred`: posted without waiting; a failure comes back with the next answered request. */
type PostgresRequest = { kind: 'connect' } | { kind: 'reconnect' } | { kind: 'query'; text: string; values: unknown[] } | { kind: 'exec'; text: string; deferred?: boolean } | { kind: 'close' };

type PostgresAnswer = { ok: true; rows: Record<string, unknown>[]; rowCount: number } | { ok: false; message: string; code?: string; connectionLost: boolean };

/** How long one statement may take, lock waits included, before the store gives up on the server. */
const ANSWER_TIMEOUT_MS = 30_000;
/** pg_advisory_xact_lock's key for "a writer of this database": any fixed number, the same everywhere. */
const WRITER_LOCK = 0x63_76_73_69; // "cvsi"

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** The URL without its password, for messages: a database is named, its secret never. */
export function redactedUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/?#@]*):[^@/?#]*@/i, '$1:***@');
}

/** A SQL error from the server, with its SQLSTATE code (23505 unique_violation, P0001 …). */
export class PostgresError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'PostgresError';
    this.code = code;
  }
}

/**
 * Empties a server database for `init --force`: everything in its public schema (tables, views,
 * trigger functions) goes, as --force removes a deployment's files. Refuses, without force, a
 * database that holds anything.
 */
export function prepareEmptyPostgresDatabase(url: string, force: boolean): void {
  const db = openPostgresDatabase(url);
  try {
    const held = db.get<{ n: number }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'")?.n ?? 0;
    if (held === 0) return;
    if (!force) throw new AppError('usage', 'init.exists', `the database already holds ${held} tables (a deployment's store?); use --force to replace it`, db.path);
    db.execNative('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  } finally {
    db.close();
  }
}

/** In the compiled binary the worker is an entry point of its own (package.json "build"). */
function workerLocation(): URL | string {
  if (import.meta.url.includes('$bunfs')) return './drivers/store/postgres-worker.mjs';
  return new URL('./postgres-worker.mjs', import.meta.url);
}

function startWorker(input: PostgresWorkerInput): Worker {
  // execArgv: [] — the CLI's --import tsx is not needed here and costs ~250 ms per connection.
  return new Worker(workerLocation(), { workerData: input, transferList: [input.port] as never[], execArgv: [] });
}

/** The port, and statements in PostgreSQL's own dialect for what only a server database has. */
export interface PostgresDatabase extends Database {
  execNative(sql: string): void;
}

export function openPostgresDatabase(url: string, options: OpenOptions & { answerTimeoutMs?: number } = {}): PostgresDatabase {
  // Opening (a thread, a client, a connection) takes the full time whatever the statements are given.
  let answerTimeoutMs = ANSWER_TIMEOUT_MS;
  if (!isPostgresUrl(url)) throw new AppError('usage', 'store.bad_url', 'a database URL starts with postgresql://', redactedUrl(url));
  const name = redactedUrl(url);
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  // Open transactions: 0 none, 1 the outer BEGIN, more are savepoints (as better-sqlite3 nests).
  let depth = 0;
  const worker = startWorker({ port: port2, flag, connection: { connectionString: url, application_name: 'cvs-issue' } });
  worker.unref();
  let closed = false;
  // The connection was lost: the next statement outside a transaction asks for a new one first.
  let broken = false;

  let sequence = 0;
  /**
   * Posts the request and sleeps until its own answer is on the port. The flag says an answer was
   * posted, not that it has arrived: a message can follow its flag by a moment, so the port is read
   * until the answer with this request's number is there. An answer to an earlier request (one
   * that timed out) is dropped, never taken for this one's.
   */
  const exchange = (request: PostgresRequest): PostgresAnswer => {
    const id = (sequence += 1);
    const deadline = Date.now() + answerTimeoutMs;
    Atomics.store(flag, 0, 0);
    port1.postMessage({ ...request, id });
    for (;;) {
      const received = receiveMessageOnPort(port1)?.message as (PostgresAnswer & { id: number }) | undefined;
      if (received !== undefined) {
        if (received.id === id) return received;
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        // What the server did with it is unknown: start again on a new connection.
        broken = true;
        throw new AppError('unavailable', 'store.timeout', `the PostgreSQL server did not answer within ${answerTimeoutMs / 1000} s`, name);
      }
      // Not yet answered: sleep until the flag is raised; raised (by this answer or an earlier
      // one) but nothing here yet: a millisecond for the message to arrive.
      if (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, remaining);
      else Atomics.wait(flag, 0, 1, 1);
    }
  };

  const call = (request: PostgresRequest): PostgresAnswer & { ok: true } => {
    if (closed) throw new AppError('internal', 'store.closed', 'the database is closed', name);
    if (broken && request.kind !== 'close') {
      // Inside the transaction the lost connection took with it, nothing more may run: on a new
      // connection it would run outside any transaction.
      if (depth > 0) throw new AppError('unavailable', 'store.unavailable', 'the PostgreSQL connection was lost in this transaction', name);
      broken = false;
      call({ kind: 'reconnect' });
    }
    const answer = exchange(request);
    if (!answer.ok && answer.connectionLost) {
      broken = true;
      // 503 to whoever asked: the request was not stored; another centre (or this one, later) may.
      throw new AppError('unavailable', 'store.unavailable', `the PostgreSQL server cannot be reached (${answer.message})`, name);
    }
    if (!answer.ok) throw new PostgresError(answer.message, answer.code);
    return answer;
  };

  try {
    call({ kind: 'connect' });
    if (options.readonly) call({ kind: 'exec', text: 'SET default_transaction_read_only = on' });
    answerTimeoutMs = options.answerTimeoutMs ?? ANSWER_TIMEOUT_MS;
  } catch (error) {
    void worker.terminate();
    closed = true;
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError('input', 'store.unreachable', `cannot use the PostgreSQL database: ${reason}`, name);
  }

  /**
   * BEGIN, SAVEPOINT and RELEASE are posted without waiting: the next statement waits behind them
   * on the connection anyway, and their failure comes back with its answer (one round trip less
   * each; a transaction is ~a dozen).
   */
  const deferred = (text: string) => {
    if (broken && depth > 0) throw new AppError('unavailable', 'store.unavailable', 'the PostgreSQL connection was lost in this transaction', name);
    if (broken) {
      broken = false;
      call({ kind: 'reconnect' });
    }
    port1.postMessage({ kind: 'exec', text, deferred: true } satisfies PostgresRequest);
  };
  const begin = () => deferred(`BEGIN; SELECT pg_advisory_xact_lock(${WRITER_LOCK})`);
  const query = (sql: string, params?: SqlParams) => {
    const translated = translateQuery(sql);
    return call({ kind: 'query', text: translated.text, values: bindValues(translated, params) });
  };

  /** The statements the audit log's group commit runs by hand (BEGIN IMMEDIATE … COMMIT). */
  const control = (sql: string): boolean => {
    const word = sql.trim().replace(/;$/, '').toUpperCase();
    if (word === 'BEGIN IMMEDIATE' || word === 'BEGIN') {
      if (depth > 0) throw new AppError('internal', 'store.nested_begin', 'a transaction is already open', name);
      begin();
      depth = 1;
      return true;
    }
    if (word === 'COMMIT' || word === 'ROLLBACK' || word === 'END') {
      depth = 0;
      call({ kind: 'exec', text: word === 'ROLLBACK' ? 'ROLLBACK' : 'COMMIT' });
      return true;
    }
    return false;
  };

  const database: PostgresDatabase = {
    path: name,
    driver: 'postgres',
    execNative(sql) {
      call({ kind: 'exec', text: sql });
    },
    exec(sql) {
      if (control(sql)) return;
      if (/^\s*PRAGMA\b/i.test(sql)) throw new AppError('internal', 'store.pragma', 'PRAGMA is SQLite only', name);
      call({ kind: 'exec', text: translateSchema(sql) });
    },
    run(sql, params): RunResult {
      if (control(sql)) return { changes: 0 };
      return { changes: query(sql, params).rowCount };
    },
    get: <T>(sql: string, params?: SqlParams) => query(sql, params).rows[0] as T | undefined,
    all: <T>(sql: string, params?: SqlParams) => query(sql, params).rows as T[],
    iterate: <T>(sql: string, params?: SqlParams) => (query(sql, params).rows as T[])[Symbol.iterator](),
    transaction<T>(work: () => T): T {
      const savepoint = `cvs_${depth}`;
      if (depth === 0) begin();
      else deferred(`SAVEPOINT ${savepoint}`);
      depth += 1;
      let result: T;
      try {
        result = work();
        if (isThenable(result)) {
          result.then(
            () => undefined,
            () => undefined,
          );
          throw new AppError('internal', 'store.async_transaction', 'transaction work must be synchronous');
        }
      } catch (error) {
        depth -= 1;
        try {
          call({ kind: 'exec', text: depth === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}` });
        } catch (rollbackError) {
          // A lost connection has rolled the transaction back already; the first error says why.
          if (!broken) throw rollbackError;
        }
        throw error;
      }
      depth -= 1;
      if (depth === 0) call({ kind: 'exec', text: 'COMMIT' });
      else deferred(`RELEASE SAVEPOINT ${savepoint}`);
      return result;
    },
    close() {
      if (closed) return;
      try {
        call({ kind: 'close' });
      } catch (error) {
        // A connection the server already dropped is closed as it is: nothing was left to commit.
        if (!(error instanceof AppError && error.code === 'store.unavailable')) throw error;
      } finally {
        closed = true;
        port1.close();
        void worker.terminate();
      }
    },
  };
  return database;
}
