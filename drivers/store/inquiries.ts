// The centre's inquiries table (C§16, Spec§10; schema.ts): an operator's inquiry once, routed to the
// municipality of the request it is about, then the municipality's handling through J-LIS. Every
// step is an audit entry in the same transaction; what identifies an inquiry never changes.

import type { AuditEvent, AuditValue } from '../../core/audit-entry.ts';
import type { RecordResult } from '../../core/handling-record.ts';
import type { Inquiry, InquiryState, InquiryStatus } from '../../core/inquiries.ts';
import type { AuditLog } from './audit-log.ts';
import type { Database } from './database.ts';

interface InquiryRow {
  inquiry_id: string;
  operator_id: string;
  request_id: string;
  kiosk_id: string | null;
  municipality_code: string;
  summary: string;
  status: InquiryStatus;
  answer: string | null;
  received_at: string;
  updated_at: string;
}

function stateFromRow(row: InquiryRow): InquiryState {
  return { inquiryId: row.inquiry_id, operatorId: row.operator_id, requestId: row.request_id, kioskId: row.kiosk_id, municipalityCode: row.municipality_code, summary: row.summary, status: row.status, answer: row.answer, receivedAt: row.received_at, updatedAt: row.updated_at };
}

/** Ids and codes of an inquiry for its audit entries; the summary and the answer are prose and stay out. */
export function inquiryEntry(inquiry: Pick<InquiryState, 'inquiryId' | 'operatorId' | 'requestId' | 'municipalityCode'>, extra: Record<string, AuditValue> = {}): Record<string, AuditValue> {
  return { inquiryId: inquiry.inquiryId, operatorId: inquiry.operatorId, requestId: inquiry.requestId, municipalityCode: inquiry.municipalityCode, ...extra };
}

export function saveInquiry(db: Database, audit: AuditLog, inquiry: Inquiry, municipalityCode: string, atIso: string): RecordResult {
  const events = (result: RecordResult): AuditEvent[] => (result === 'conflict' ? [] : [{ kind: 'inquiry.received', data: inquiryEntry({ ...inquiry, municipalityCode }, { duplicate: result === 'duplicate' }) }]);
  return audit.transaction(events, () => {
    const existing = findInquiry(db, inquiry.inquiryId);
    if (existing) {
      const same = existing.operatorId === inquiry.operatorId && existing.requestId === inquiry.requestId && existing.kioskId === inquiry.kioskId && existing.summary === inquiry.summary;
      return same ? 'duplicate' : 'conflict';
    }
    db.run(
      `INSERT INTO inquiries (inquiry_id, operator_id, request_id, kiosk_id, municipality_code, summary, status, answer, received_at, updated_at)
       VALUES (:inquiryId, :operatorId, :requestId, :kioskId, :municipalityCode, :summary, 'received', NULL, :atIso, :atIso)`,
      { ...inquiry, municipalityCode, atIso },
    );
    return 'inserted';
  });
}

export function findInquiry(db: Database, inquiryId: string): InquiryState | undefined {
  const row = db.get<InquiryRow>('SELECT * FROM inquiries WHERE inquiry_id = :inquiryId', { inquiryId });
  return row ? stateFromRow(row) : undefined;
}

export function listInquiries(db: Database, municipalityCode?: string): InquiryState[] {
  return db
    .all<InquiryRow>('SELECT * FROM inquiries WHERE (:code IS NULL OR municipality_code = :code) ORDER BY received_at DESC, inquiry_id', { code: municipalityCode ?? null })
    .map(stateFromRow);
}

/** The municipality's handling, recorded by J-LIS: a new status and what was done. */
export function answerInquiry(db: Database, audit: AuditLog, inquiryId: string, status: InquiryStatus, answer: string | null, atIso: string): InquiryState | undefined {
  const existing = findInquiry(db, inquiryId);
  if (!existing) return undefined;
  audit.transaction([{ kind: 'inquiry.answered', data: inquiryEntry(existing, { code: status }) }], () => {
    db.run('UPDATE inquiries SET status = :status, answer = :answer, updated_at = :atIso WHERE inquiry_id = :inquiryId', { inquiryId, status, answer, atIso });
  });
  return findInquiry(db, inquiryId);
}
