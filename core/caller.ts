// Who calls the centre: the relay's operator, proven by its TLS certificate, and the kiosk the relay
// vouches for in its headers.

import { AppError } from './errors.ts';

/** Who is calling, as proven by TLS: the relay's operator, and the kiosk the relay vouches for. */
export interface CallerIdentity {
  operatorId: string;
  storeId: string;
  kioskId: string;
}

/** The kiosks the centre knows, by id: each belongs to one operator and one store. */
export interface KioskRegistry {
  get(kioskId: string): { operatorId: string; storeId: string } | undefined;
}

/**
 * A relay vouches for its kiosk in headers; the centre believes it only for a kiosk registered
 * with that relay's operator, in the store named (issue 10: OP01's relay naming OP02's kiosk got a 200).
 */
export function assertRegisteredKiosk(kiosks: KioskRegistry, caller: CallerIdentity): void {
  const kiosk = kiosks.get(caller.kioskId);
  if (!kiosk) throw new AppError('unauthorized', 'center.kiosk_unknown', 'the relay named a kiosk the centre does not know');
  if (kiosk.operatorId !== caller.operatorId || kiosk.storeId !== caller.storeId) {
    throw new AppError('unauthorized', 'center.kiosk_not_operators', "the relay named a kiosk of another operator or store");
  }
}
