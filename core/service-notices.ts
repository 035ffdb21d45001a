// Announced maintenance windows and stop notices (Spec§7-4, Spec§12): the centre announces them,
// refuses service while they are in force, and routes them to the kiosks through the relays.

import { AppError } from './errors.ts';
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
