// Versioned schema migrations. A database belongs to one role (center, relay, kiosk or a
// municipality's reference back end) for life,
// so a kiosk's file can never be upgraded into a centre's by a mistyped path.

import { AppError } from '../../core/errors.ts';
import type { Database } from './database.ts';

export type StoreRole = 'center' | 'relay' | 'kiosk' | 'municipality';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const bookkeepingSql = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
`;

export function migrate(db: Database, role: StoreRole, migrations: readonly Migration[]): { applied: number[] } {
  requireAscendingVersions(migrations);
  db.transaction(() => {
    db.exec(bookkeepingSql);
    claimRole(db, role);
  });
  const known = new Set(db.all<{ version: number }>('SELECT version FROM schema_migrations').map((row) => row.version));
  refuseNewerSchema(db, migrations);
  const applied: number[] = [];
  for (const migration of migrations) {
    if (known.has(migration.version)) continue;
    const applies = db.transaction(() => {
      // Another process on the same server database may have applied it since it was read.
      if (db.get('SELECT 1 AS found FROM schema_migrations WHERE version = :version', { version: migration.version })) return false;
      db.exec(migration.sql);
      db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :appliedAt)', {
        version: migration.version,
        name: migration.name,
        appliedAt: new Date().toISOString(),
      });
      return true;
    });
    if (applies) applied.push(migration.version);
  }
  return { applied };
}

/**
 * For a reader that may not write (a read-only file, a server role without rights): the database
 * is of this role and at this program's newest schema, or it says what to run. Nothing is changed.
 */
export function requireCurrentSchema(db: Database, role: StoreRole, migrations: readonly Migration[]): void {
  let claimed: { value: string | null } | undefined;
  try {
    claimed = db.get<{ value: string | null }>("SELECT value FROM meta WHERE key = 'role'");
  } catch {
    claimed = undefined; // no meta table: never migrated
  }
  if (claimed === undefined) throw new AppError('input', 'store.not_migrated', `database ${db.path} holds no ${role} store yet`, db.path);
  if (claimed.value !== role) throw new AppError('input', 'store.wrong_role', `database ${db.path} belongs to a ${String(claimed.value)}, not a ${role}`);
  refuseNewerSchema(db, migrations);
  const newest = db.get<{ version: number | null }>('SELECT MAX(version) AS version FROM schema_migrations')?.version ?? 0;
  const knownNewest = migrations.at(-1)?.version ?? 0;
  if (newest < knownNewest) {
    throw new AppError('input', 'store.not_migrated', `database ${db.path} has schema version ${newest}; ${role} serve (or any command that writes) brings it to ${knownNewest}`, db.path);
  }
}

/** A bad list is our bug, not the operator's: applying out of order would corrupt the schema. */
function requireAscendingVersions(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const migration of migrations) {
    if (!Number.isInteger(migration.version) || migration.version <= previous) {
      throw new AppError(
        'internal',
        'store.bad_migrations',
        `migration versions must be positive integers in ascending order (at ${migration.name})`,
      );
    }
    previous = migration.version;
  }
}

function claimRole(db: Database, role: StoreRole): void {
  const row = db.get<{ value: string | null }>("SELECT value FROM meta WHERE key = 'role'");
  if (row === undefined) {
    db.run("INSERT INTO meta (key, value) VALUES ('role', :role)", { role });
    return;
  }
  if (row.value !== role) {
    throw new AppError(
      'input',
      'store.wrong_role',
      `database ${db.path} belongs to a ${String(row.value)}, not a ${role}`,
    );
  }
}

function refuseNewerSchema(db: Database, migrations: readonly Migration[]): void {
  const newest = db.get<{ version: number | null }>('SELECT MAX(version) AS version FROM schema_migrations');
  const knownNewest = migrations.at(-1)?.version ?? 0;
  const databaseNewest = newest?.version ?? 0;
  if (databaseNewest > knownNewest) {
    throw new AppError(
      'input',
      'store.too_new',
      `database ${db.path} has schema version ${databaseNewest}; this program knows up to ${knownNewest}`,
    );
  }
}
