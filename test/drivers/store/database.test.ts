// Proves the SQLite adapter behaves the same on better-sqlite3 and bun:sqlite, and that migrations are ordered, idempotent and role-bound.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../../core/errors.ts';
import { openDatabase, type Database } from '../../../drivers/store/database.ts';
import { migrate, type Migration } from '../../../drivers/store/migrate.ts';

const isBun = typeof Bun !== 'undefined';

describe('openDatabase', () => {
  let directory: string;
  let db: Database | undefined;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'cvs-store-'));
  });
  afterEach(() => {
    db?.close();
    db = undefined;
    rmSync(directory, { recursive: true, force: true });
  });

  const open = (): Database => {
    db = openDatabase(join(directory, 'store.db'));
    db.exec('CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, data BLOB)');
    return db;
  };

  it('creates an owner-only file in WAL mode with the runtime driver', () => {
    const store = open();
    assert.equal(store.driver, isBun ? 'bun:sqlite' : 'better-sqlite3');
    assert.equal(statSync(store.path).mode & 0o777, 0o600);
    assert.deepEqual(store.get('PRAGMA journal_mode'), { journal_mode: 'wal' });
    assert.deepEqual(store.get('PRAGMA foreign_keys'), { foreign_keys: 1 });
    store.run("INSERT INTO item (name) VALUES ('a')");
    assert.equal(statSync(`${store.path}-wal`).mode & 0o777, 0o600);
  });

  it('refuses a path whose directory does not exist', () => {
    assert.throws(
      () => openDatabase(join(directory, 'missing', 'store.db')),
      (error: unknown) => error instanceof AppError && error.code === 'store.no_directory',
    );
  });

  it('binds parameters by name and by position', () => {
    const store = open();
    const first = store.run('INSERT INTO item (name) VALUES (:name)', { name: 'by-name' });
    const second = store.run('INSERT INTO item (name) VALUES (?)', ['by-position']);
    assert.deepEqual(first, { changes: 1 });
    assert.deepEqual(second, { changes: 1 });
    assert.deepEqual(store.all('SELECT id, name FROM item WHERE id >= :low ORDER BY id', { low: 1 }), [
      { id: 1, name: 'by-name' },
      { id: 2, name: 'by-position' },
    ]);
    assert.deepEqual([...store.iterate<{ name: string }>('SELECT name FROM item ORDER BY id')].map((row) => row.name), [
      'by-name',
      'by-position',
    ]);
  });

  it('answers undefined, not null, when no row matches', () => {
    const store = open();
    assert.equal(store.get('SELECT * FROM item WHERE id = ?', [42]), undefined);
  });

  it('round-trips a BLOB as bytes and integers as numbers', () => {
    const store = open();
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    store.run('INSERT INTO item (name, data) VALUES (:name, :data)', { name: 'blob', data: bytes });
    const row = store.get<{ id: number; data: Uint8Array }>('SELECT id, data FROM item');
    assert.ok(row?.data instanceof Uint8Array);
    assert.deepEqual(new Uint8Array(row.data), bytes);
    assert.equal(typeof row.id, 'number');
  });

  it('commits a transaction and rolls it back when the work throws', () => {
    const store = open();
    const result = store.transaction(() => {
      store.run("INSERT INTO item (name) VALUES ('kept')");
      return 'done';
    });
    assert.equal(result, 'done');
    assert.throws(() =>
      store.transaction(() => {
        store.run("INSERT INTO item (name) VALUES ('lost')");
        throw new Error('stop');
      }),
    );
    assert.deepEqual(store.all('SELECT name FROM item'), [{ name: 'kept' }]);
  });

  it('rolls back and throws when the work is asynchronous', () => {
    const store = open();
    assert.throws(
      () =>
        store.transaction(async () => {
          store.run("INSERT INTO item (name) VALUES ('async')");
        }),
      (error: unknown) => error instanceof AppError && error.code === 'store.async_transaction',
    );
    assert.deepEqual(store.all('SELECT name FROM item'), []);
  });

  it('lets a unique-constraint error through with its SQLite code', () => {
    const store = open();
    store.run("INSERT INTO item (name) VALUES ('twice')");
    assert.throws(
      () => store.run("INSERT INTO item (name) VALUES ('twice')"),
      (error: unknown) => (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE',
    );
  });

  it('keeps data after close and reopen', () => {
    open().run("INSERT INTO item (name) VALUES ('durable')");
    db?.close();
    db = openDatabase(join(directory, 'store.db'));
    assert.deepEqual(db.all('SELECT name FROM item'), [{ name: 'durable' }]);
  });

  it('opens read-only without writing', () => {
    open().run("INSERT INTO item (name) VALUES ('seen')");
    db?.close();
    db = openDatabase(join(directory, 'store.db'), { readonly: true });
    assert.deepEqual(db.all('SELECT name FROM item'), [{ name: 'seen' }]);
    assert.throws(() => db?.run("INSERT INTO item (name) VALUES ('refused')"));
  });

  it('refuses a file that is not a database, or a damaged one, naming the file (exit 2)', () => {
    const garbage = join(directory, 'garbage.db');
    writeFileSync(garbage, Buffer.alloc(8192, 0x41));
    for (const readonly of [false, true]) {
      assert.throws(
        () => openDatabase(garbage, { readonly }),
        (error: unknown) => error instanceof AppError && error.code === 'store.damaged' && error.where === garbage && /not an SQLite database/.test(error.message),
      );
    }
    // A real database whose pages were overwritten: refused when read, still naming the file.
    const damaged = join(directory, 'damaged.db');
    const healthy = openDatabase(damaged);
    healthy.exec('CREATE TABLE t (x TEXT); ' + Array.from({ length: 200 }, (_, index) => `INSERT INTO t VALUES ('${'x'.repeat(500)}${index}');`).join(' '));
    healthy.close();
    const bytes = readFileSync(damaged);
    bytes.fill(0xff, 4096, bytes.length);
    writeFileSync(damaged, bytes);
    assert.throws(
      () => {
        const opened = openDatabase(damaged, { readonly: true });
        try {
          opened.all('SELECT x FROM t');
        } finally {
          opened.close();
        }
      },
      (error: unknown) => error instanceof AppError && error.code === 'store.damaged' && error.where === damaged,
    );
  });
});

describe('migrate', () => {
  let directory: string;
  let db: Database;

  const migrations: Migration[] = [
    { version: 1, name: 'create item', sql: 'CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)' },
    { version: 2, name: 'add price', sql: 'ALTER TABLE item ADD COLUMN price_yen INTEGER NOT NULL DEFAULT 0' },
  ];

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'cvs-migrate-'));
    db = openDatabase(join(directory, 'store.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('applies missing versions in order and is idempotent', () => {
    assert.deepEqual(migrate(db, 'center', migrations.slice(0, 1)), { applied: [1] });
    assert.deepEqual(migrate(db, 'center', migrations), { applied: [2] });
    assert.deepEqual(migrate(db, 'center', migrations), { applied: [] });
    db.run('INSERT INTO item (name, price_yen) VALUES (?, ?)', ['x', 300]);
    const rows = db.all<{ version: number; name: string; applied_at: string }>(
      'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
    );
    assert.deepEqual(
      rows.map((row) => [row.version, row.name]),
      [
        [1, 'create item'],
        [2, 'add price'],
      ],
    );
    for (const row of rows) assert.match(row.applied_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(db.get("SELECT value FROM meta WHERE key = 'role'"), { value: 'center' });
  });

  it('refuses a database that belongs to another role', () => {
    migrate(db, 'kiosk', migrations);
    assert.throws(
      () => migrate(db, 'center', migrations),
      (error: unknown) => error instanceof AppError && error.code === 'store.wrong_role' && error.kind === 'input',
    );
  });

  it('refuses a database newer than the code', () => {
    migrate(db, 'relay', migrations);
    assert.throws(
      () => migrate(db, 'relay', migrations.slice(0, 1)),
      (error: unknown) => error instanceof AppError && error.code === 'store.too_new',
    );
  });

  it('rolls back a failing migration and leaves earlier ones applied', () => {
    const broken: Migration[] = [...migrations, { version: 3, name: 'broken', sql: 'CREATE TABLE x (a); NOT SQL' }];
    assert.throws(() => migrate(db, 'center', broken));
    assert.deepEqual(db.all('SELECT version FROM schema_migrations ORDER BY version'), [{ version: 1 }, { version: 2 }]);
    assert.equal(db.get("SELECT name FROM sqlite_master WHERE name = 'x'"), undefined);
  });
});
