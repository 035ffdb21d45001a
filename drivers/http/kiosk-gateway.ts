// The kiosk's side of the wire (core/kiosk-transaction.ts KioskGateway) over a mutual-TLS client to
// its relay: the paths of core/messages.ts, and every answer parsed field by field before the kiosk
// acts on it (a relay can be wrong). The kiosk (cmd/kiosk.ts) and the load bench's simulated kiosks
// both use it.

import type { KioskGateway } from '../../core/kiosk-transaction.ts';
import { KIOSK_PATHS, parseCertificateData, parseChallengeResponse } from '../../core/messages.ts';
import type { HttpClient } from './client.ts';
import { callJson } from './json-api.ts';

export function kioskGateway(client: HttpClient, kioskId: string): KioskGateway {
  return {
    challenge: async () => parseChallengeResponse(await callJson(client, KIOSK_PATHS.challenge, { kioskId })),
    authenticate: (request) => callJson(client, KIOSK_PATHS.authenticate, { ...request, kioskId }),
    requestCertificate: async (request) => parseCertificateData(await callJson(client, KIOSK_PATHS.certificates, { ...request, kioskId })),
    sendCompletion: (notice) => callJson(client, KIOSK_PATHS.completions, notice),
    sendCorrection: (notice) => callJson(client, KIOSK_PATHS.corrections, notice),
  };
}
