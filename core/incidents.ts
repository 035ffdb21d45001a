// Accident reports from the operator to J-LIS (C§15: 事故が発生したとき…直ちにその旨を甲に報告;
// Spec§11-3: for printing and issuance the operator investigates and reports how it stands). An
// incident is opened by its first report and followed by updates until one says it is resolved;
// each report is kept as it was sent, never edited. Reports carry codes, pseudonymous ids and the
// operator's own summary: the summary must not name a resident, and the command says so.

import { inputError } from './errors.ts';
import { asObject, stringField } from './messages.ts';

/** What went wrong (Spec§11): printing or handing over a certificate, or not being able to serve at all. */
export const INCIDENT_KINDS = ['printing', 'issuance', 'unable'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export const INCIDENT_STATUSES = ['open', 'update', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const MAX_INCIDENT_SUMMARY_LENGTH = 400;

export interface IncidentReport {
  incidentId: string;
  /** 1 for the report that opens it, then one more for each update. */
  sequence: number;
  operatorId: string;
  kind: IncidentKind;
  status: IncidentStatus;
  /** When the operator became aware of it (UTC ISO); the report's own time is when it was received. */
  occurredAt: string;
  kioskId: string | null;
  /** The transaction it concerns, a pseudonymous request id. */
  requestId: string | null;
  summary: string;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const INCIDENT_ID = /^[0-9a-f]{32}$/;

/** The report a proposal makes, or an input error naming the field (`names` maps fields to the caller's flags). */
export function incidentReportFrom(proposal: Omit<IncidentReport, 'kind' | 'status'> & { kind: string; status: string }, names: Partial<Record<keyof IncidentReport, string>> = {}): IncidentReport {
  const name = (field: keyof IncidentReport) => names[field] ?? field;
  const refuse = (field: keyof IncidentReport, message: string) => inputError('incident.invalid', `${name(field)} ${message}`, name(field));
  if (!INCIDENT_ID.test(proposal.incidentId)) throw refuse('incidentId', 'must be 32 hexadecimal digits');
  if (!Number.isSafeInteger(proposal.sequence) || proposal.sequence < 1) throw refuse('sequence', 'must be a whole number from 1');
  if (!(INCIDENT_KINDS as readonly string[]).includes(proposal.kind)) throw refuse('kind', `must be one of ${INCIDENT_KINDS.join(', ')}`);
  if (!(INCIDENT_STATUSES as readonly string[]).includes(proposal.status)) throw refuse('status', `must be one of ${INCIDENT_STATUSES.join(', ')}`);
  if ((proposal.sequence === 1) !== (proposal.status === 'open')) throw refuse('status', 'is open for the first report of an incident, and update or resolved after it');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(proposal.occurredAt) || Number.isNaN(Date.parse(proposal.occurredAt))) throw refuse('occurredAt', 'must be a UTC ISO time');
  if (proposal.kioskId !== null && !ID.test(proposal.kioskId)) throw refuse('kioskId', 'is not an id');
  if (proposal.requestId !== null && !ID.test(proposal.requestId)) throw refuse('requestId', 'is not an id');
  const summary = proposal.summary.trim();
  if (summary === '' || proposal.summary.length > MAX_INCIDENT_SUMMARY_LENGTH) throw refuse('summary', `must be 1 to ${MAX_INCIDENT_SUMMARY_LENGTH} characters`);
  return { ...proposal, kind: proposal.kind as IncidentKind, status: proposal.status as IncidentStatus, summary };
}

/** How a report travels, relay → centre; the operator is the relay's certificate's. */
export function incidentBody(report: IncidentReport): Record<string, unknown> {
  const { operatorId: _operatorId, ...body } = report;
  return body;
}

export function parseIncidentReport(value: unknown, operatorId: string): IncidentReport {
  const body = asObject(value, 'body');
  const nullableId = (field: string) => (body[field] === null || body[field] === undefined ? null : stringField(body, field, ID));
  if (typeof body.sequence !== 'number') throw inputError('request.bad_field', 'field "sequence" must be a number', 'sequence');
  return incidentReportFrom({
    incidentId: stringField(body, 'incidentId', INCIDENT_ID),
    sequence: body.sequence,
    operatorId,
    kind: stringField(body, 'kind', /^[a-z]{1,16}$/),
    status: stringField(body, 'status', /^[a-z]{1,16}$/),
    occurredAt: stringField(body, 'occurredAt', /^.{1,40}$/),
    kioskId: nullableId('kioskId'),
    requestId: nullableId('requestId'),
    summary: stringField(body, 'summary', /^[\s\S]{1,800}$/),
  });
}
