// The incident_reports table the centre and the relay both keep (C§15, Spec§11-3; schema.ts): each
// report of an operator's accident once, with its audit entry in the same transaction. An incident
// is its reports 1, 2, … in order: the same report again is a duplicate, another under the same
// number a conflict, a number out of turn or anything after `resolved` is refused.

import { AppError } from '../../core/errors.ts';
import type { AuditEvent, AuditValue } from '../../core/audit-entry.ts';
import type { RecordResult } from '../../core/handling-record.ts';
import type { IncidentKind, IncidentReport, IncidentStatus } from '../../core/incidents.ts';
import type { AuditLog } from './audit-log.ts';
import type { Database } from './database.ts';

interface ReportRow {
  incident_id: string;
  sequence: number;
  operator_id: string;
  kind: IncidentKind;
  status: IncidentStatus;
  occurred_at: string;
  kiosk_id: string | null;
  request_id: string | null;
  summary: string;
  received_at: string;
}

function reportFromRow(row: ReportRow): IncidentReport {
  return { incidentId: row.incident_id, sequence: row.sequence, operatorId: row.operator_id, kind: row.kind, status: row.status, occurredAt: row.occurred_at, kioskId: row.kiosk_id, requestId: row.request_id, summary: row.summary };
}

/** Keeps the report once; `events` gives the audit entries for the result (none for a conflict). */
export function saveIncidentReport(db: Database, audit: AuditLog, report: IncidentReport, receivedAtIso: string, events: (result: RecordResult) => AuditEvent[]): RecordResult {
  return audit.transaction(events, () => {
    const earlier = incidentReports(db, report.incidentId);
    const same = earlier.find((existing) => existing.sequence === report.sequence);
    if (same) return (Object.keys(report) as (keyof IncidentReport)[]).every((field) => same[field] === report[field]) ? 'duplicate' : 'conflict';
    const last = earlier.at(-1);
    if (last && last.operatorId !== report.operatorId) throw new AppError('conflict', 'incident.conflict', 'another operator reported an incident with this id', report.incidentId);
    if (report.sequence !== (last?.sequence ?? 0) + 1) throw new AppError('refused', 'incident.out_of_order', `report ${report.sequence} of this incident comes after report ${last?.sequence ?? 0}`, report.incidentId);
    if (last?.status === 'resolved') throw new AppError('refused', 'incident.resolved', 'this incident was reported resolved; open a new one', report.incidentId);
    if (last && last.kind !== report.kind) throw new AppError('refused', 'incident.kind_changed', `this incident is of kind ${last.kind}`, report.incidentId);
    db.run(
      `INSERT INTO incident_reports (incident_id, sequence, operator_id, kind, status, occurred_at, kiosk_id, request_id, summary, received_at)
       VALUES (:incidentId, :sequence, :operatorId, :kind, :status, :occurredAt, :kioskId, :requestId, :summary, :receivedAtIso)`,
      { ...report, receivedAtIso },
    );
    return 'inserted';
  });
}

/** An incident's reports in order (empty when there is no such incident). */
export function incidentReports(db: Database, incidentId: string): IncidentReport[] {
  return db.all<ReportRow>('SELECT * FROM incident_reports WHERE incident_id = :incidentId ORDER BY sequence', { incidentId }).map(reportFromRow);
}

/** Every incident's latest report with when its first was received, newest first. */
export function incidentSummaries(db: Database): (IncidentReport & { openedAt: string; updatedAt: string })[] {
  return db
    .all<ReportRow & { opened_at: string }>(
      `SELECT r.*, (SELECT MIN(received_at) FROM incident_reports f WHERE f.incident_id = r.incident_id) AS opened_at
         FROM incident_reports r
        WHERE r.sequence = (SELECT MAX(sequence) FROM incident_reports l WHERE l.incident_id = r.incident_id)
        ORDER BY opened_at DESC, r.incident_id`,
    )
    .map((row) => ({ ...reportFromRow(row), openedAt: row.opened_at, updatedAt: row.received_at }));
}

/** A report's audit data: codes and pseudonymous ids only, the summary never (it is the operator's prose). */
export function incidentEntry(report: IncidentReport, extra: Record<string, AuditValue> = {}): Record<string, AuditValue> {
  return {
    incidentId: report.incidentId,
    sequence: report.sequence,
    code: report.kind,
    incidentStatus: report.status,
    ...(report.kioskId === null ? {} : { kioskId: report.kioskId }),
    ...(report.requestId === null ? {} : { requestId: report.requestId }),
    ...extra,
  };
}
