// Proves the centre and the relay are request handlers one can call in process (Hono's
// app.request, cli/cli's factory): no socket, no TLS. The relay's upstream is the centre's handler
// itself, so a kiosk's request goes relay → centre and back, with the same identity checks.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openCenterHandler, type CenterHandler } from '../../cmd/center.ts';
import { loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { runInit } from '../../cmd/init.ts';
import { createRelayHandler } from '../../cmd/relay.ts';
import { createRelayService } from '../../core/relay-service.ts';
import { RELAY_HEADERS } from '../../core/messages.ts';
import type { IncomingRequest, PeerCertificate } from '../../drivers/http/server.ts';
import { auditHasher, auditOrigin, noteVerifierFromKey, AuditLog } from '../../drivers/store/audit-log.ts';
import { createRelayStore, openRelayDatabase } from '../../drivers/store/relay-store.ts';
import type { Database } from '../../drivers/store/database.ts';

const peer = (subject: Record<string, string>): PeerCertificate => ({ subject, issuer: {}, serialNumber: '01', fingerprint256: '', raw: new Uint8Array() });
const post = (requestPath: string, body: unknown, subject: Record<string, string>, headers: Record<string, string> = {}): IncomingRequest => ({
  method: 'POST', path: requestPath, headers, body: new TextEncoder().encode(JSON.stringify(body)), peer: peer(subject),
});
const json = (body: Uint8Array | string) => JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));

describe('centre and relay as request handlers', () => {
  let dir: string;
  let loaded: LoadedConfig;
  let center: CenterHandler;
  let relayDb: Database;
  const clock = offsetClock(nextBusinessMorning(Date.now()));

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-handlers-'));
    runInit({ dir, centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' }, Date.now());
    loaded = loadConfig(dir);
    center = openCenterHandler(loaded, { clock });
  });
  after(() => {
    center.close();
    relayDb?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a relay in process, and refuses a peer that is not a relay', async () => {
    const relaySubject = { CN: 'relay.OP01', O: 'OP01', OU: 'relay' };
    const kioskHeaders = { [RELAY_HEADERS.store]: 'S0001', [RELAY_HEADERS.kiosk]: 'K0001' };
    const answer = await center.handler(post('/v1/auth/challenge', { kioskId: 'K0001' }, relaySubject, kioskHeaders));
    assert.equal(answer.status, 200);
    assert.match(json(answer.body).challengeId, /^[0-9a-f]{32}$/);
    const stranger = await center.handler(post('/v1/auth/challenge', { kioskId: 'K0001' }, { CN: 'x', O: 'OP01', OU: 'operations' }, kioskHeaders));
    assert.equal(stranger.status, 403);
    assert.equal(json(stranger.body).error.code, 'center.not_a_relay');
  });

  it('forwards a kiosk request relay → centre in process, with the relay vouching for the kiosk', async () => {
    const relayConfig = loaded.config.relays[0]!;
    relayDb = openRelayDatabase(loaded.resolve(relayConfig.databaseFile));
    const audit = new AuditLog(relayDb, { origin: auditOrigin('relay', 'OP01'), privateKeyPem: loaded.read(relayConfig.auditKeyFile), clock });
    const service = createRelayService({
      operatorId: 'OP01',
      clock,
      store: createRelayStore(relayDb, audit),
      audit,
      witness: { hasher: auditHasher, noteVerifierFor: noteVerifierFromKey },
      // The centre's handler is the upstream: what a TLS client would send, without the socket.
      upstream: {
        post: async (upstreamPath, body, kiosk) => {
          const answer = await center.handler(post(upstreamPath, body, { CN: 'relay.OP01', O: 'OP01', OU: 'relay' }, { [RELAY_HEADERS.store]: kiosk.storeId, [RELAY_HEADERS.kiosk]: kiosk.kioskId }));
          return { status: answer.status, body: typeof answer.body === 'string' ? new TextEncoder().encode(answer.body) : answer.body };
        },
      },
    });
    const relay = createRelayHandler(service);
    const kiosk = { CN: 'K0001', OU: 'S0001', O: 'OP01' };
    const challenge = await relay(post('/v1/auth/challenge', { kioskId: 'K0001' }, kiosk));
    assert.equal(challenge.status, 200, JSON.stringify(json(challenge.body)));
    assert.match(json(challenge.body).challengeBase64, /^[A-Za-z0-9+/]+=*$/);
    const impostor = await relay(post('/v1/auth/challenge', { kioskId: 'K0001' }, { ...kiosk, OU: 'S0002' }));
    assert.equal(impostor.status, 403);
    assert.equal((await relay(post('/v1/relay-heartbeat', {}, kiosk))).status, 404);
  });
});
