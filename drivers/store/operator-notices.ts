// The operator_notices table the centre and the relay both keep (Spec§7-3, Spec§7-4; schema.ts): an
// operator's own maintenance windows and stops, each once, with its audit entry in the same
// transaction. The same notice again is a duplicate; another under the same id a conflict.

import type { RecordResult } from '../../core/handling-record.ts';
import type { NoticeKind, OperatorNotice } from '../../core/service-notices.ts';
import type { AuditEvent } from '../../core/audit-entry.ts';
import type { AuditLog } from './audit-log.ts';
import type { Database } from './database.ts';

interface NoticeRow {
  notice_id: string;
  operator_id: string;
  kind: NoticeKind;
  starts_at_ms: number;
  ends_at_ms: number;
  message: string;
  emergency: number;
}

function noticeFromRow(row: NoticeRow): OperatorNotice {
  return { noticeId: row.notice_id, operatorId: row.operator_id, kind: row.kind, startsAtMs: row.starts_at_ms, endsAtMs: row.ends_at_ms, message: row.message, emergency: row.emergency === 1 };
}

function same(left: OperatorNotice, right: OperatorNotice): boolean {
  return (Object.keys(left) as (keyof OperatorNotice)[]).every((key) => left[key] === right[key]);
}

/** Keeps the notice once; `events` gives the audit entries for the result (none for a conflict). */
export function saveOperatorNotice(db: Database, audit: AuditLog, notice: OperatorNotice, receivedAtIso: string, events: (result: RecordResult) => AuditEvent[]): RecordResult {
  return audit.transaction(events, () => {
    const existing = db.get<NoticeRow>('SELECT * FROM operator_notices WHERE notice_id = :noticeId', { noticeId: notice.noticeId });
    if (existing) return same(noticeFromRow(existing), notice) ? 'duplicate' : 'conflict';
    db.run(
      `INSERT INTO operator_notices (notice_id, operator_id, kind, starts_at_ms, ends_at_ms, message, emergency, received_at)
       VALUES (:noticeId, :operatorId, :kind, :startsAtMs, :endsAtMs, :message, :emergency, :receivedAtIso)`,
      { ...notice, emergency: notice.emergency ? 1 : 0, receivedAtIso },
    );
    return 'inserted';
  });
}

/** The notices that end after this instant, earliest first. */
export function operatorNoticesFrom(db: Database, fromMs: number): OperatorNotice[] {
  return db.all<NoticeRow>('SELECT * FROM operator_notices WHERE ends_at_ms > :fromMs ORDER BY starts_at_ms', { fromMs }).map(noticeFromRow);
}
