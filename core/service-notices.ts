// Announced maintenance windows and stop notices (Spec§7-4, Spec§12): the centre announces them,
// refuses service while they are in force, and routes them to the kiosks through the relays.

import { AppError, inputError } from './errors.ts';
import { formatJstIso, formatUtcIso, parseIsoInstant } from './jst.ts';
import { asObject, stringField } from './messages.ts';
import { isValidMunicipalityCode } from './municipality.ts';
import { CENTER_WINDOW, firstServiceInstant, windowText, type MaintenanceWindow } from './service-hours.ts';

export type NoticeKind = 'maintenance' | 'stop';

export interface ServiceNotice {
  noticeId: string;
  kind: NoticeKind;
  startsAtMs: number;
  endsAtMs: number;
  /** Only this municipality's certificates; undefined for the whole service. */
  municipalityCode?: string;
  /** Shown on kiosk screens as written (Japanese); never personal data. */
  message: string;
}

/** The longest message a kiosk screen shows in its notice band. */
export const MAX_NOTICE_MESSAGE_LENGTH = 200;

/** A notice as an operator of the centre proposes it, times already parsed (undefined: not a time). */
export interface NoticeProposal {
  kind: string;
  startsAtMs: number | undefined;
  endsAtMs: number | undefined;
  municipalityCode?: string;
  message: string;
}

/** How the caller names each field in an error: the command passes its flags. */
export type NoticeFieldNames = Record<'kind' | 'from' | 'to' | 'municipality' | 'message', string>;

const FIELD_NAMES: NoticeFieldNames = { kind: 'kind', from: 'from', to: 'to', municipality: 'municipality', message: 'message' };

/**
 * The notice a proposal makes, or an input error naming the field (Spec§7-4, Spec§12): a maintenance
 * window covers the whole service, a stop one municipality (a real code, check digit included); it
 * ends after it starts; its message is one to 200 characters shown as written.
 */
export function serviceNoticeFrom(proposal: NoticeProposal, noticeId: string, names: NoticeFieldNames = FIELD_NAMES): ServiceNotice {
  const refuse = (message: string) => inputError('notice.invalid', message);
  const { kind, municipalityCode, startsAtMs, endsAtMs } = proposal;
  if (kind !== 'maintenance' && kind !== 'stop') throw refuse(`${names.kind} must be maintenance or stop`);
  if (kind === 'stop' && !municipalityCode) throw refuse(`a stop needs ${names.municipality} CODE`);
  if (kind === 'maintenance' && municipalityCode) throw refuse(`a maintenance window covers the whole service: leave out ${names.municipality}`);
  if (municipalityCode && !isValidMunicipalityCode(municipalityCode)) throw refuse(`${names.municipality} "${municipalityCode.slice(0, 20)}" is not a 6-digit code with a valid check digit`);
  if (startsAtMs === undefined || endsAtMs === undefined) throw refuse(`${names.from} and ${names.to} must be ISO times with an offset`);
  if (endsAtMs <= startsAtMs) throw refuse(`${names.to} must be after ${names.from}`);
  const message = proposal.message.trim();
  if (message === '' || proposal.message.length > MAX_NOTICE_MESSAGE_LENGTH) throw refuse(`${names.message} must be 1 to ${MAX_NOTICE_MESSAGE_LENGTH} characters`);
  return { noticeId, kind, startsAtMs, endsAtMs, ...(municipalityCode ? { municipalityCode } : {}), message };
}

export function inForce(notice: ServiceNotice, atMs: number): boolean {
  return atMs >= notice.startsAtMs && atMs < notice.endsAtMs;
}

/** The whole-service windows, for the centre's hours check (core/service-hours.ts assertCenterOpen). */
export function maintenanceWindows(notices: readonly ServiceNotice[]): MaintenanceWindow[] {
  return notices.filter((notice) => notice.municipalityCode === undefined).map((notice) => ({ startMs: notice.startsAtMs, endMs: notice.endsAtMs }));
}

/** Throws while a stop for this municipality is in force. */
export function assertMunicipalityNotStopped(notices: readonly ServiceNotice[], atMs: number, municipalityCode: string): void {
  if (notices.some((notice) => notice.municipalityCode === municipalityCode && inForce(notice, atMs))) {
    throw new AppError('refused', 'municipality.stopped', 'this municipality has stopped kiosk issuance for now');
  }
}

/** What kiosks should know now: notices in force or still to come. */
export function currentAndComing(notices: readonly ServiceNotice[], atMs: number): ServiceNotice[] {
  return notices.filter((notice) => notice.endsAtMs > atMs).sort((left, right) => left.startsAtMs - right.startsAtMs);
}

/**
 * An operator's own notice (Spec§7-3, Spec§7-4): a planned maintenance of its systems, or a stop it
 * cannot avoid. It is sent to the centre (J-LIS, 甲) first and then shown on its kiosks.
 */
export interface OperatorNotice {
  noticeId: string;
  operatorId: string;
  kind: NoticeKind;
  startsAtMs: number;
  endsAtMs: number;
  message: string;
  /** Spec§7-4 (止むを得ない事情): a maintenance that cannot wait for hours the service is closed. */
  emergency: boolean;
}

export type OperatorNoticeFieldNames = Record<'kind' | 'from' | 'to' | 'message' | 'emergency', string>;

const OPERATOR_FIELD_NAMES: OperatorNoticeFieldNames = { kind: 'kind', from: 'startsAt', to: 'endsAt', message: 'message', emergency: 'emergency' };

/**
 * The operator notice a proposal makes, or an input error naming the field. Spec§7-3: 乙 does the
 * maintenance of its systems outside the service hours, so a maintenance window that reaches into
 * them (06:30–23:00 JST, not 12/29–1/3) is refused unless marked an emergency (Spec§7-4). A stop is
 * the unplanned kind (障害) and may start at any time. Either covers all of the operator's kiosks.
 */
export function operatorNoticeFrom(
  proposal: { operatorId: string; kind: string; startsAtMs: number | undefined; endsAtMs: number | undefined; message: string; emergency: boolean },
  noticeId: string,
  names: OperatorNoticeFieldNames = OPERATOR_FIELD_NAMES,
): OperatorNotice {
  const refuse = (message: string) => inputError('notice.invalid', message);
  const { kind, startsAtMs, endsAtMs, emergency } = proposal;
  if (kind !== 'maintenance' && kind !== 'stop') throw refuse(`${names.kind} must be maintenance or stop`);
  if (startsAtMs === undefined || endsAtMs === undefined) throw refuse(`${names.from} and ${names.to} must be ISO times with an offset`);
  if (endsAtMs <= startsAtMs) throw refuse(`${names.to} must be after ${names.from}`);
  if (endsAtMs - startsAtMs > MAX_OPERATOR_NOTICE_MS) throw refuse(`a notice lasts at most ${MAX_OPERATOR_NOTICE_MS / 86_400_000} days`);
  const message = proposal.message.trim();
  if (message === '' || proposal.message.length > MAX_NOTICE_MESSAGE_LENGTH) throw refuse(`${names.message} must be 1 to ${MAX_NOTICE_MESSAGE_LENGTH} characters`);
  if (kind === 'maintenance' && !emergency) {
    const inside = firstServiceInstant(startsAtMs, endsAtMs);
    if (inside !== undefined) {
      throw new AppError(
        'input',
        'notice.inside_service_hours',
        `a maintenance window must lie outside the service hours (${windowText(CENTER_WINDOW)} JST, Spec§7-3): ${formatJstIso(inside)} is inside them; mark it ${names.emergency} only if it cannot wait (Spec§7-4)`,
      );
    }
  }
  return { noticeId, operatorId: proposal.operatorId, kind, startsAtMs, endsAtMs, message, emergency };
}

/** Two weeks: a longer stop is the end of the service, not a notice (C§21 handover). */
export const MAX_OPERATOR_NOTICE_MS = 14 * 86_400_000;

/** How an operator notice travels, relay → centre (times as UTC ISO). */
export function operatorNoticeBody(notice: OperatorNotice): Record<string, unknown> {
  return { noticeId: notice.noticeId, kind: notice.kind, startsAt: formatUtcIso(notice.startsAtMs), endsAt: formatUtcIso(notice.endsAtMs), message: notice.message, emergency: notice.emergency };
}

/** The centre's reading of an operator notice: the same rules as the relay's (operatorNoticeFrom). */
export function parseOperatorNotice(value: unknown, operatorId: string): OperatorNotice {
  const body = asObject(value, 'body');
  if (typeof body.emergency !== 'boolean') throw inputError('request.bad_field', 'field "emergency" must be true or false', 'emergency');
  return operatorNoticeFrom(
    {
      operatorId,
      kind: stringField(body, 'kind', /^[a-z]{1,16}$/),
      startsAtMs: parseIsoInstant(stringField(body, 'startsAt', /^.{1,40}$/)),
      endsAtMs: parseIsoInstant(stringField(body, 'endsAt', /^.{1,40}$/)),
      message: stringField(body, 'message', /^[\s\S]{1,400}$/),
      emergency: body.emergency,
    },
    stringField(body, 'noticeId', /^[0-9a-f]{32}$/),
  );
}

/** What a kiosk is shown of an operator notice: a notice like the centre's, for the whole service it gets. */
export function asServiceNotice(notice: OperatorNotice): ServiceNotice {
  return { noticeId: notice.noticeId, kind: notice.kind, startsAtMs: notice.startsAtMs, endsAtMs: notice.endsAtMs, message: notice.message };
}
