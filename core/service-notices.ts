// Announced maintenance windows and stop notices (Spec§7-4, Spec§12): the centre announces them,
// refuses service while they are in force, and routes them to the kiosks through the relays.

import { AppError, inputError } from './errors.ts';
import { isValidMunicipalityCode } from './municipality.ts';
import type { MaintenanceWindow } from './service-hours.ts';

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
