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
import { freshDeployment } from './deployment-fixture.ts';
import { KIOSK_PATHS, RELAY_HEADERS } from '../../core/messages.ts';
import { inProcessRelay, json, post } from './in-process.ts';
import { logSize, readCheckpoints } from '../../drivers/store/audit-log.ts';
import { openDatabase } from '../../drivers/store/database.ts';

describe('centre and relay as request handlers', () => {
  let dir: string;
  let loaded: LoadedConfig;
  let center: CenterHandler;
  let relayClose: (() => void) | undefined;
  const clock = offsetClock(nextBusinessMorning(Date.now()));

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-handlers-'));
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    loaded = loadConfig(dir);
    center = openCenterHandler(loaded, { clock });
  });
  after(() => {
    center.close();
    relayClose?.();
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
    const opened = inProcessRelay(loaded, center, clock);
    relayClose = opened.close;
    const relay = opened.handler;
    const kiosk = { CN: 'K0001', OU: 'S0001', O: 'OP01' };
    const challenge = await relay(post('/v1/auth/challenge', { kioskId: 'K0001' }, kiosk));
    assert.equal(challenge.status, 200, JSON.stringify(json(challenge.body)));
    assert.match(json(challenge.body).challengeBase64, /^[A-Za-z0-9+/]+=*$/);
    const impostor = await relay(post('/v1/auth/challenge', { kioskId: 'K0001' }, { ...kiosk, OU: 'S0002' }));
    assert.equal(impostor.status, 403);
    assert.equal((await relay(post('/v1/relay-heartbeat', {}, kiosk))).status, 404);
  });
});

describe('the centre handler with group commit (center serve)', () => {
  it('sends no answer before what it did is committed, and commits a turn under one checkpoint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-handlers-group-'));
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    const loaded = loadConfig(dir);
    const clock = offsetClock(nextBusinessMorning(Date.now()));
    const grouped = openCenterHandler(loaded, { clock, groupCommit: true });
    const reader = openDatabase(loaded.resolve(loaded.config.center.databaseFile), { readonly: true });
    try {
      const relaySubject = { CN: 'relay.OP01', O: 'OP01', OU: 'relay' };
      const sizeBefore = logSize(reader);
      const checkpointsBefore = readCheckpoints(reader).length;
      const pending = Promise.all([
        grouped.handler(post(KIOSK_PATHS.challenge, { kioskId: 'K0001' }, relaySubject, { [RELAY_HEADERS.store]: 'S0001', [RELAY_HEADERS.kiosk]: 'K0001' })),
        // An answer to a challenge never given: refused, and the refusal is an audit entry.
        grouped.handler(
          post(KIOSK_PATHS.authenticate, { kioskId: 'K0002', challengeId: '0'.repeat(32), certificateDerBase64: 'AAAA', signatureBase64: 'AAAA' }, relaySubject, { [RELAY_HEADERS.store]: 'S0001', [RELAY_HEADERS.kiosk]: 'K0002' }),
        ),
      ]);
      let answeredEarly = false;
      void pending.then(() => (answeredEarly = logSize(reader) === sizeBefore));
      // Still this turn: the challenge and the refusal are written, not committed, and not answered.
      assert.equal(logSize(reader), sizeBefore);
      const [challenge, refused] = await pending;
      assert.equal(answeredEarly, false, 'no answer went out before the commit');
      assert.equal(challenge.status, 200);
      assert.equal(json(refused.body).error.code.startsWith('auth.') || json(refused.body).error.code.startsWith('challenge.'), true, String(refused.body));
      assert.ok(reader.get('SELECT 1 AS found FROM challenges WHERE challenge_id = :id', { id: json(challenge.body).challengeId }), 'the answered challenge is committed');
      assert.equal(logSize(reader), sizeBefore + 1);
      assert.equal(readCheckpoints(reader).length, checkpointsBefore + 1);
    } finally {
      reader.close();
      grouped.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
