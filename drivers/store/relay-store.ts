// The relay's SQLite store: registered kiosks and the operator's own handling records, built from
// the completion notices its kiosks send.

import type { HandlingRecord, RecordResult } from '../../core/center-service.ts';
import type { RegisteredKiosk, RelayStore } from '../../core/relay-service.ts';
import { insertHandlingRecord } from './center-store.ts';
import { openDatabase, type Database } from './database.ts';
import { migrate } from './migrate.ts';
import { RELAY_MIGRATIONS } from './schema.ts';

export function openRelayDatabase(path: string): Database {
  const db = openDatabase(path);
  migrate(db, 'relay', RELAY_MIGRATIONS);
  return db;
}

export function saveKiosk(db: Database, kiosk: RegisteredKiosk & { storeName: string }): void {
  db.run(
    `INSERT INTO kiosks (kiosk_id, store_id, store_name, active) VALUES (:kioskId, :storeId, :storeName, :active)
     ON CONFLICT (kiosk_id) DO UPDATE SET store_id = excluded.store_id, store_name = excluded.store_name, active = excluded.active`,
    { kioskId: kiosk.kioskId, storeId: kiosk.storeId, storeName: kiosk.storeName, active: kiosk.active ? 1 : 0 },
  );
}

export function createRelayStore(db: Database): RelayStore {
  return {
    findKiosk(kioskId: string): RegisteredKiosk | undefined {
      const row = db.get<{ kiosk_id: string; store_id: string; active: number }>('SELECT kiosk_id, store_id, active FROM kiosks WHERE kiosk_id = :kioskId', { kioskId });
      return row ? { kioskId: row.kiosk_id, storeId: row.store_id, active: row.active === 1 } : undefined;
    },
    noteKioskSeen(kioskId: string, atIso: string): void {
      db.run('UPDATE kiosks SET last_seen_at = :atIso WHERE kiosk_id = :kioskId', { kioskId, atIso });
    },
    recordOperatorRecord(record: HandlingRecord, receivedAtIso: string): RecordResult {
      return insertHandlingRecord(db, record, { received_at: receivedAtIso });
    },
  };
}
