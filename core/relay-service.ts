// The operator's relay (S1, S2): the only door between kiosks and the centre. It admits registered
// kiosks by their certificate, pins the kiosk id the centre sees to that certificate, keeps the
// operator's own handling records, and forwards everything else unchanged.

import type { HandlingRecord, RecordResult } from './center-service.ts';
import { AppError } from './errors.ts';
import { formatUtcIso } from './jst.ts';
import { asObject, parseCompletionNotice } from './messages.ts';
import type { Clock } from './ports.ts';

export interface RegisteredKiosk {
  kioskId: string;
  storeId: string;
  active: boolean;
}

export interface RelayStore {
  findKiosk(kioskId: string): RegisteredKiosk | undefined;
  noteKioskSeen(kioskId: string, atIso: string): void;
  recordOperatorRecord(record: HandlingRecord, receivedAtIso: string): RecordResult;
}

/** The kiosk as its client certificate names it: CN = kiosk id, OU = store id, O = operator id. */
export interface KioskCertificateIdentity {
  kioskId: string;
  storeId: string;
  operatorId: string;
}

export interface UpstreamAnswer {
  status: number;
  json: unknown;
}

/** The relay's connection to the centre; it adds the kiosk identity the relay vouches for. */
export interface CenterUpstream {
  post(path: string, body: unknown, kiosk: { storeId: string; kioskId: string }): Promise<UpstreamAnswer>;
}

export const RELAYED_PATHS = ['/v1/auth/challenge', '/v1/auth/verify', '/v1/certificates', '/v1/completions'] as const;

export function createRelayService(deps: { operatorId: string; clock: Clock; store: RelayStore; upstream: CenterUpstream }) {
  function admit(identity: KioskCertificateIdentity): RegisteredKiosk {
    const kiosk = deps.store.findKiosk(identity.kioskId);
    if (!kiosk || !kiosk.active || kiosk.storeId !== identity.storeId || identity.operatorId !== deps.operatorId) {
      throw new AppError('unauthorized', 'relay.kiosk_unregistered', 'this kiosk is not registered with the relay', identity.kioskId);
    }
    return kiosk;
  }

  return {
    admit,

    async forward(path: string, body: unknown, identity: KioskCertificateIdentity): Promise<UpstreamAnswer> {
      if (!(RELAYED_PATHS as readonly string[]).includes(path)) {
        throw new AppError('not-found', 'relay.no_route', `no such endpoint: ${path}`);
      }
      const kiosk = admit(identity);
      const nowIso = formatUtcIso(deps.clock.nowMs());
      deps.store.noteKioskSeen(kiosk.kioskId, nowIso);
      const object = asObject(body, 'body');
      if (object.kioskId !== kiosk.kioskId) {
        throw new AppError('input', 'relay.kiosk_mismatch', 'field "kioskId" does not match the kiosk certificate', 'kioskId');
      }
      if (path === '/v1/completions') keepOperatorRecord(object, kiosk, nowIso);
      return deps.upstream.post(path, object, { storeId: kiosk.storeId, kioskId: kiosk.kioskId });
    },
  };

  /** The operator's view of the month (Spec§4-2): recorded before forwarding, so it exists even if the centre is down. */
  function keepOperatorRecord(body: Record<string, unknown>, kiosk: RegisteredKiosk, nowIso: string): void {
    const notice = parseCompletionNotice(body);
    if (notice.storeId !== kiosk.storeId) {
      throw new AppError('input', 'relay.store_mismatch', 'field "storeId" does not match the kiosk certificate', 'storeId');
    }
    const result = deps.store.recordOperatorRecord(
      {
        issuanceId: notice.issuanceId,
        issuedAt: formatUtcIso(Date.parse(notice.issuedAt)),
        operatorId: deps.operatorId,
        storeId: notice.storeId,
        kioskId: notice.kioskId,
        municipalityCode: notice.municipalityCode,
        certificateType: notice.certificateType,
        copies: notice.copies,
        feeYen: notice.feeYen,
      },
      nowIso,
    );
    if (result === 'conflict') {
      throw new AppError('conflict', 'completion.conflict', 'a different notice was already recorded for this id', notice.issuanceId);
    }
  }
}

export type RelayService = ReturnType<typeof createRelayService>;
