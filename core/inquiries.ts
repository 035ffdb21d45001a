// Complaints and inquiries about a certificate's content (C§16, Spec§10): the operator passes what a
// store was told to J-LIS at once, J-LIS to the municipality that issued the certificate, and the
// municipality deals with the resident; neither the operator nor the store does. So an inquiry names
// the transaction (its request id, or a printed copy's serial) and the operator's summary, never
// the resident: the municipality finds them through its own records of the request.

import { inputError } from './errors.ts';
import { asObject, stringField } from './messages.ts';

export const INQUIRY_STATUSES = ['received', 'forwarded', 'answered', 'closed'] as const;
export type InquiryStatus = (typeof INQUIRY_STATUSES)[number];
/** What the municipality (through J-LIS) may set: it has the inquiry, it answered the resident, it is done. */
export const ANSWER_STATUSES: readonly InquiryStatus[] = ['forwarded', 'answered', 'closed'];

export const MAX_INQUIRY_TEXT_LENGTH = 400;

export interface Inquiry {
  inquiryId: string;
  operatorId: string;
  /** The transaction asked about: from the request id given, or the serial's. */
  requestId: string;
  kioskId: string | null;
  summary: string;
}

export interface InquiryState extends Inquiry {
  municipalityCode: string;
  status: InquiryStatus;
  /** The municipality's last word through J-LIS: what was done, never the resident's details. */
  answer: string | null;
  receivedAt: string;
  updatedAt: string;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const INQUIRY_ID = /^[0-9a-f]{32}$/;

export function inquiryFrom(proposal: Inquiry, names: Partial<Record<keyof Inquiry, string>> = {}): Inquiry {
  const name = (field: keyof Inquiry) => names[field] ?? field;
  const refuse = (field: keyof Inquiry, message: string) => inputError('inquiry.invalid', `${name(field)} ${message}`, name(field));
  if (!INQUIRY_ID.test(proposal.inquiryId)) throw refuse('inquiryId', 'must be 32 hexadecimal digits');
  if (!ID.test(proposal.requestId)) throw refuse('requestId', 'is not a request id or a serial');
  if (proposal.kioskId !== null && !ID.test(proposal.kioskId)) throw refuse('kioskId', 'is not an id');
  const summary = proposal.summary.trim();
  if (summary === '' || proposal.summary.length > MAX_INQUIRY_TEXT_LENGTH) throw refuse('summary', `must be 1 to ${MAX_INQUIRY_TEXT_LENGTH} characters`);
  return { ...proposal, summary };
}

export function inquiryBody(inquiry: Inquiry): Record<string, unknown> {
  const { operatorId: _operatorId, ...body } = inquiry;
  return body;
}

export function parseInquiry(value: unknown, operatorId: string): Inquiry {
  const body = asObject(value, 'body');
  return inquiryFrom({
    inquiryId: stringField(body, 'inquiryId', INQUIRY_ID),
    operatorId,
    requestId: stringField(body, 'requestId', ID),
    kioskId: body.kioskId === null || body.kioskId === undefined ? null : stringField(body, 'kioskId', ID),
    summary: stringField(body, 'summary', /^[\s\S]{1,800}$/),
  });
}
