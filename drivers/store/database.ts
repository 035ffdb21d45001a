// One synchronous SQLite interface over better-sqlite3 (Node) and bun:sqlite (Bun).
// The runtime is picked at run time so one source file serves tsx and the compiled binary.

import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database as BunDatabase, Statement as BunStatement } from 'bun:sqlite';
import { AppError } from '../../core/errors.ts';
import { isPostgresUrl, openPostgresDatabase } from './postgres-database.ts';

export type SqlValue = string | number | bigint | Uint8Array | null;
export type SqlParams = Record<string, SqlValue> | SqlValue[];

export interface RunResult {
  changes: number;
}

export interface Database {
  readonly path: string;
  readonly driver: 'better-sqlite3' | 'bun:sqlite' | 'postgres';
  /** Runs one or more statements without parameters (schema, pragmas). */
  exec(sql: string): void;
  run(sql: string, params?: SqlParams): RunResult;
  /** The first row, or undefined (never null) when there is none. */
  get<T>(sql: string, params?: SqlParams): T | undefined;
  all<T>(sql: string, params?: SqlParams): T[];
  iterate<T>(sql: string, params?: SqlParams): IterableIterator<T>;
  /** Synchronous only: if work returns a thenable the transaction rolls back and this throws. */
  transaction<T>(work: () => T): T;
  close(): void;
}

export interface OpenOptions {
  readonly?: boolean;
}

/** The few statement methods both drivers share; parameters are spread positionally or one object. */
interface NativeStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

interface NativeDatabase {
  exec(sql: string): void;
  prepare(sql: string): NativeStatement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  close(): void;
}

const filePermissions = 0o600;

/** A file (SQLite) or a postgresql:// URL (the centre's server database, docs/postgres.md). */
export function openDatabase(path: string, options: OpenOptions = {}): Database {
  if (isPostgresUrl(path)) return openPostgresDatabase(path, options);
  const readonly = options.readonly === true;
  const inMemory = path === ':memory:';
  if (!inMemory) requireParentDirectory(path);
  if (!inMemory && !readonly) createOwnerOnlyFile(path);
  const isBun = typeof Bun !== 'undefined';
  return namingTheFile(path, () => {
    const native = isBun ? openBun(path, readonly) : openBetterSqlite3(path, readonly);
    if (!readonly) {
      native.exec(
        'PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL;',
      );
      if (!inMemory) restrictSidecarFiles(path);
    } else {
      native.exec('PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;');
    }
    // Reads the header now, so a file that is not a database is refused here, naming it.
    native.prepare('SELECT count(*) FROM sqlite_schema').get();
    return wrap(path, isBun ? 'bun:sqlite' : 'better-sqlite3', native, readonly);
  });
}

/** SQLite's codes for a file that is damaged, not a database, or cannot be read or written. */
const FILE_PROBLEMS: Record<string, string> = {
  SQLITE_NOTADB: 'is not an SQLite database',
  SQLITE_CORRUPT: 'is damaged (SQLite reports corruption)',
  SQLITE_IOERR: 'could not be read or written (I/O error)',
  SQLITE_CANTOPEN: 'could not be opened',
  SQLITE_FULL: 'cannot grow: the disk is full',
  SQLITE_READONLY: 'is read-only',
  SQLITE_PERM: 'may not be accessed',
};

/** Runs `work`; a damaged or unreadable file becomes one line that names it (exit 2). */
function namingTheFile<T>(path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // Extended codes (SQLITE_IOERR_SHORT_READ) belong to their primary code.
    const primary = typeof code === 'string' ? Object.keys(FILE_PROBLEMS).find((known) => code === known || code.startsWith(`${known}_`)) : undefined;
    if (primary) throw new AppError('input', 'store.damaged', `the database ${FILE_PROBLEMS[primary]} (${code})`, path);
    throw error;
  }
}

function requireParentDirectory(path: string): void {
  const parent = dirname(path);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) {
    throw new AppError('input', 'store.no_directory', `database directory does not exist: ${parent}`);
  }
}

/** SQLite would create the file with the umask's permissions; records hold personal data, so create it first. */
function createOwnerOnlyFile(path: string): void {
  closeSync(openSync(path, 'a', filePermissions));
}

/** WAL and shared-memory files carry page contents too; narrow them once SQLite has made them. */
function restrictSidecarFiles(path: string): void {
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) chmodSync(path + suffix, filePermissions);
  }
}

function openBun(path: string, readonly: boolean): NativeDatabase {
  // A runtime require keeps bun:sqlite out of Node's module graph; it is a Bun built-in.
  const runtimeRequire = createRequire(import.meta.url);
  const { Database: BunSqlite } = runtimeRequire('bun:sqlite') as { Database: typeof BunDatabase };
  // strict: bind { name } to :name and throw on missing parameters, as better-sqlite3 does.
  const db = readonly ? new BunSqlite(path, { readonly: true, strict: true }) : new BunSqlite(path, { create: true, readwrite: true, strict: true });
  return {
    exec: (sql) => db.exec(sql),
    prepare: (sql) => bunStatement(db.prepare(sql)),
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
}

function bunStatement(statement: BunStatement): NativeStatement {
  return {
    run: (...params) => statement.run(...(params as never[])),
    // bun:sqlite answers null for no row; the interface promises undefined.
    get: (...params) => statement.get(...(params as never[])) ?? undefined,
    all: (...params) => statement.all(...(params as never[])),
    iterate: (...params) => statement.iterate(...(params as never[])),
  };
}

function openBetterSqlite3(path: string, readonly: boolean): NativeDatabase {
  // A variable module name stops `bun build --compile` from bundling the native addon (docs/runtime-facts.md, "SQLite").
  const moduleName = 'better-sqlite3';
  const runtimeRequire = createRequire(import.meta.url);
  const BetterSqlite = runtimeRequire(moduleName) as typeof BetterSqlite3;
  const db = new BetterSqlite(path, { readonly, fileMustExist: readonly });
  return db as unknown as NativeDatabase;
}

function wrap(path: string, driver: Database['driver'], native: NativeDatabase, readonly: boolean): Database {
  // Preparing costs more than running a small statement; reuse one per SQL text.
  const statements = new Map<string, NativeStatement>();
  const statementFor = (sql: string): NativeStatement => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = native.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const runInTransaction = native.transaction((work: () => unknown): unknown => {
    const result = work();
    if (isThenable(result)) {
      // Swallow the orphaned promise's outcome; the caller gets the error below instead.
      result.then(
        () => undefined,
        () => undefined,
      );
      throw new AppError('internal', 'store.async_transaction', 'transaction work must be synchronous');
    }
    return result;
  });
  return {
    path,
    driver,
    exec: (sql) => namingTheFile(path, () => native.exec(sql)),
    run: (sql, params) =>
      namingTheFile(path, () => {
        return { changes: statementFor(sql).run(...toArguments(params)).changes };
      }),
    get: <T>(sql: string, params?: SqlParams) => namingTheFile(path, () => statementFor(sql).get(...toArguments(params)) as T | undefined),
    all: <T>(sql: string, params?: SqlParams) => namingTheFile(path, () => statementFor(sql).all(...toArguments(params)) as T[]),
    // A fresh statement: a cached one would be busy if the loop body ran the same SQL again.
    iterate: <T>(sql: string, params?: SqlParams) =>
      native.prepare(sql).iterate(...toArguments(params)) as IterableIterator<T>,
    transaction: <T>(work: () => T) => runInTransaction(work) as T,
    close: () => {
      statements.clear();
      // Fold the WAL back into the main file, as better-sqlite3 does and bun:sqlite does not, so a
      // closed database is one self-contained file (copies, backups, hand inspection).
      if (!readonly) {
        try {
          native.exec('PRAGMA wal_checkpoint(TRUNCATE)');
        } catch {
          // another connection holds the database open: its last close will fold the WAL in
        }
      }
      native.close();
    },
  };
}

function toArguments(params: SqlParams | undefined): unknown[] {
  if (params === undefined) return [];
  return Array.isArray(params) ? params : [params];
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Whether there is a database to open: a file, or a server (asked when opened). */
export function databaseExists(location: string): boolean {
  return isPostgresUrl(location) || existsSync(location);
}

/** Opens a database for one piece of work and always closes it. */
export function withDatabase<T>(path: string, work: (db: Database) => T, options: OpenOptions = {}): T {
  const db = openDatabase(path, options);
  try {
    return work(db);
  } finally {
    db.close();
  }
}
