// Proves a burst of refused connections at the relay (probes without a client certificate) makes
// a couple of audit entries with a count, not one signed entry per probe.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { startCenter, type StartedCenter } from '../../cmd/center.ts';
import { loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { freshDeployment } from './deployment-fixture.ts';
import { startRelay, type StartedRelay } from '../../cmd/relay.ts';
import { withDatabase } from '../../drivers/store/database.ts';

describe('refused connections at the relay', () => {
  let dir: string;
  let loaded: LoadedConfig;
  let center: StartedCenter;
  let relay: StartedRelay;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-refused-'));
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    loaded = loadConfig(dir);
    center = await startCenter(loaded, {});
    relay = await startRelay(loaded, { centerUrl: center.server.url });
  });
  after(async () => {
    await center?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const refusedEntries = () =>
    withDatabase(loaded.resolve(loaded.config.relays[0]!.databaseFile), (db) =>
      db.all<{ entry: Uint8Array }>('SELECT entry FROM audit_entries ORDER BY idx').map((row) => JSON.parse(new TextDecoder().decode(row.entry)) as { kind: string; data: Record<string, unknown> }),
    ).filter((entry) => entry.kind === 'connection.refused');

  /** A TLS client with no certificate: the relay refuses it in the handshake. */
  function probe(): Promise<void> {
    return new Promise((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: relay.server.port, rejectUnauthorized: false });
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
    });
  }

  it('writes the first refusal at once and the rest as one counted entry', async () => {
    for (let round = 0; round < 30; round += 1) await probe();
    const during = refusedEntries();
    assert.equal(during.length, 1, 'one entry while the burst lasts');
    await relay.close();
    const entries = refusedEntries();
    assert.equal(entries.length, 2);
    const total = entries.reduce((sum, entry) => sum + Number(entry.data.count), 0);
    assert.equal(total, 30);
    assert.equal(entries[1]!.data.peers, 1);
  });
});
