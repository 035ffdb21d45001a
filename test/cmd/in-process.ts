// Test helpers for the request handlers in process: a request as the TLS adapter hands it over,
// and a relay whose upstream is the centre's own handler (what a TLS client would send, without the
// socket).

import type { CenterHandler } from '../../cmd/center.ts';
import type { LoadedConfig } from '../../cmd/config.ts';
import { openRelayHandler, type RelayHandler } from '../../cmd/relay.ts';
import { RELAY_HEADERS } from '../../core/messages.ts';
import type { Clock } from '../../core/ports.ts';
import type { IncomingRequest, PeerCertificate } from '../../drivers/http/server.ts';

export const peer = (subject: Record<string, string>): PeerCertificate => ({ subject, issuer: {}, serialNumber: '01', fingerprint256: '', raw: new Uint8Array() });

/** A POST with a JSON body from a peer whose certificate names `subject`. */
export const post = (requestPath: string, body: unknown, subject: Record<string, string>, headers: Record<string, string> = {}): IncomingRequest => ({
  method: 'POST',
  path: requestPath,
  headers,
  body: new TextEncoder().encode(JSON.stringify(body)),
  peer: peer(subject),
});

export const json = (body: Uint8Array | string) => JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));

/** The operator's relay in process, forwarding to the centre's handler as that relay's certificate would. */
export function inProcessRelay(loaded: LoadedConfig, center: CenterHandler, clock: Clock, operatorId = 'OP01'): RelayHandler {
  const relaySubject = { CN: `relay.${operatorId}`, O: operatorId, OU: 'relay' };
  return openRelayHandler(loaded, {
    operatorId,
    clock,
    upstream: {
      post: async (upstreamPath, body, kiosk) => {
        const answer = await center.handler(post(upstreamPath, body, relaySubject, { [RELAY_HEADERS.store]: kiosk.storeId, [RELAY_HEADERS.kiosk]: kiosk.kioskId }));
        return { status: answer.status, body: typeof answer.body === 'string' ? new TextEncoder().encode(answer.body) : answer.body };
      },
    },
  });
}
