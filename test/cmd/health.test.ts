// Proves health and metrics live on their own address (--metrics-listen), never on the mutual-TLS
// port: GET /healthz answers JSON, GET /metrics counts requests per path and status, refused
// connections and the audit log's size, in Prometheus text; the mTLS port knows no /healthz.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { AppError } from '../../core/errors.ts';
import { startCenter, type StartedCenter } from '../../cmd/center.ts';
import { clientFor, loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { freshDeployment } from './deployment-fixture.ts';
import { openKiosk } from '../../cmd/kiosk.ts';
import { startRelay, type StartedRelay } from '../../cmd/relay.ts';

describe('health and metrics', () => {
  let dir: string;
  let loaded: LoadedConfig;
  let center: StartedCenter;
  let relay: StartedRelay;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-health-'));
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    loaded = loadConfig(dir);
    center = await startCenter(loaded, { metricsListen: '127.0.0.1:0' });
    relay = await startRelay(loaded, { centerUrl: center.server.url, metricsListen: '127.0.0.1:0' });
  });
  after(async () => {
    await relay?.close();
    await center?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers /healthz with the role and the audit log size', async () => {
    const response = await fetch(`${center.metricsUrl}/healthz`);
    assert.equal(response.status, 200);
    const health = (await response.json()) as { status: string; role: string; auditEntries: number };
    assert.deepEqual([health.status, health.role], ['ok', 'center']);
    assert.ok(health.auditEntries >= 0);
    const relayHealth = (await (await fetch(`${relay.metricsUrl}/healthz`)).json()) as { role: string; operatorId: string };
    assert.deepEqual([relayHealth.role, relayHealth.operatorId], ['relay', 'OP01']);
    assert.equal((await fetch(`${center.metricsUrl}/other`)).status, 404);
  });

  it('counts requests per path and status, and refused connections, in Prometheus text', async () => {
    const kiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: relay.server.url });
    await kiosk.flushOutbox();
    await kiosk.close();
    // A probe with no client certificate is refused at the relay.
    await new Promise<void>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: relay.server.port, rejectUnauthorized: false });
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
    });
    const relayMetrics = await (await fetch(`${relay.metricsUrl}/metrics`)).text();
    assert.match(relayMetrics, /cvs_issue_requests_total\{path="\/v1\/notices",status="200",role="relay"\} [1-9]/);
    assert.match(relayMetrics, /cvs_issue_refused_connections_total\{reason="[^"]+",role="relay"\} [1-9]/);
    assert.match(relayMetrics, /cvs_issue_audit_log_entries\{role="relay"\} [1-9]/);
    // The +Inf bucket: a loaded machine may take longer than any finite bucket, and timing is for benches.
    assert.match(relayMetrics, /cvs_issue_request_duration_seconds_bucket\{le="\+Inf",role="relay",path="\/v1\/notices"\} [1-9]/);
    const centerMetrics = await (await fetch(`${center.metricsUrl}/metrics`)).text();
    assert.match(centerMetrics, /cvs_issue_requests_total\{path="\/v1\/notices",status="200",role="center"\} [1-9]/);
    assert.match(centerMetrics, /process_cpu_seconds_total/);
  });

  it('serves no /healthz on the mutual-TLS port, and refuses the same address for both', async () => {
    const relayConfig = loaded.config.relays[0]!;
    const asRelay = clientFor(loaded, relayConfig.centerTls, center.server.url, 15_000);
    try {
      assert.equal((await asRelay.request('GET', '/healthz')).status, 404);
    } finally {
      await asRelay.close();
    }
    const taken = new URL(center.server.url);
    await assert.rejects(
      startCenter(loaded, { listen: `127.0.0.1:${taken.port}`, metricsListen: `127.0.0.1:${taken.port}` }),
      (error: unknown) => error instanceof AppError && /never share its port/.test(error.message),
    );
  });
});
