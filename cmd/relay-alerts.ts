// The relay's alert loop (S4-7, S4-8; docs/alerts.md): queues the alerts of faults its kiosks
// reported, raises kiosks silent too long as down (and their recovery), and delivers every queued
// alert over HTTPS to the store register and the maintenance centre, retried with backoff from its
// own durable queue (relay.db) until delivered or given up. The rules are core/alerts.ts's.

import { afterAttempt, faultAlert, IDEMPOTENCY_HEADER, idempotencyKey, outageAlert, outageStep, silentPastBound, type AlertTarget, type DeliveryStep, type EndpointAnswer } from '../core/alerts.ts';
import { AppError } from '../core/errors.ts';
import { formatUtcIso } from '../core/jst.ts';
import type { Clock, Timers } from '../core/ports.ts';
import { createMutualTlsClient, type HttpClient } from '../drivers/http/client.ts';
import type { AuditLog } from '../drivers/store/audit-log.ts';
import type { Database } from '../drivers/store/database.ts';
import { dueDeliveries, endOutage, kioskStatuses, nextDeliveryAt, openOutages, queueFaultAlerts, raiseOutage, recordDeliveryStep, type AlertRouting } from '../drivers/store/relay-store.ts';
import type { AlertEndpoints } from './config.ts';

/** The loop looks at kiosk silence this often, and wakes at least this often for due retries. */
export const ALERT_WATCH_INTERVAL_MS = 60_000;
/** Deliveries sent per run, one after another: a long backlog drains in steps. */
const DELIVERIES_PER_RUN = 20;
/** One attempt's deadline (connect, handshake, answer). */
const ATTEMPT_TIMEOUT_MS = 10_000;

export interface RunReport {
  delivered: number;
  retrying: number;
  failed: number;
}

export interface AlertDispatcher {
  /**
   * One run: silent kiosks raised or recovered, new faults' alerts queued, every due delivery tried
   * once. Runs never overlap: a call while one runs waits for it and then runs again.
   */
  run(): Promise<RunReport>;
  /** A fault arrived: run soon rather than at the next interval. */
  poke(): void;
  close(): Promise<void>;
}

export function startAlertDispatcher(deps: {
  db: Database;
  audit: AuditLog;
  operatorId: string;
  endpoints: AlertEndpoints | undefined;
  downAfterMs: number;
  clock: Clock;
  timers: Timers;
  log: (line: string) => void;
}): AlertDispatcher {
  const { db, audit, operatorId, endpoints, clock, timers } = deps;
  const routing: AlertRouting = (storeId) => (['register', 'maintenance'] as const).filter((target) => endpoints?.urlFor(target, storeId) !== undefined);
  const clients = new Map<string, HttpClient>();
  const clientFor = (url: URL): HttpClient => {
    let client = clients.get(url.origin);
    if (!client) {
      client = createMutualTlsClient({ baseUrl: url.origin, caPem: endpoints!.caPem, certificatePem: endpoints!.certificatePem, keyPem: endpoints!.keyPem, timeoutMs: ATTEMPT_TIMEOUT_MS, maxConnections: 2 });
      clients.set(url.origin, client);
    }
    return client;
  };

  const startedAtMs = clock.nowMs();
  function watch(nowMs: number): void {
    const nowIso = formatUtcIso(nowMs);
    const outages = openOutages(db);
    for (const kiosk of kioskStatuses(db)) {
      const open = outages.get(kiosk.kioskId);
      const step = outageStep({ active: kiosk.active, down: silentPastBound(kiosk.lastSeenAt, startedAtMs, nowMs, deps.downAfterMs), lastSeenAt: kiosk.lastSeenAt, openOutage: open === undefined ? undefined : { silentSince: open } });
      const where = { operatorId, storeId: kiosk.storeId, kioskId: kiosk.kioskId };
      if (step && 'raise' in step) {
        raiseOutage(db, audit, outageAlert('kiosk.down', where, step.raise.silentSince, step.raise.silentSince), step.raise.silentSince, routing, nowIso);
        deps.log(`relay: kiosk ${kiosk.kioskId} is down (silent since ${step.raise.silentSince})`);
      } else if (step) {
        const alert = step.announce ? outageAlert('kiosk.recovered', where, step.recover.silentSince, kiosk.lastSeenAt ?? nowIso) : undefined;
        endOutage(db, audit, kiosk, step.recover.silentSince, alert, routing, nowIso);
      }
    }
  }

  async function attempt(url: URL, target: AlertTarget, delivery: { alertId: string; body: string; attempts: number }): Promise<EndpointAnswer> {
    try {
      const answer = await clientFor(url).request('POST', `${url.pathname}${url.search}`, delivery.body, {
        'content-type': 'application/json',
        [IDEMPOTENCY_HEADER]: idempotencyKey(delivery.alertId, target),
        'x-cvs-alert-attempt': String(delivery.attempts + 1),
      });
      return { status: answer.status };
    } catch (error) {
      return { transportError: error instanceof AppError ? error.code : 'internal' };
    }
  }

  async function runOnce(): Promise<RunReport> {
    const report: RunReport = { delivered: 0, retrying: 0, failed: 0 };
    watch(clock.nowMs());
    queueFaultAlerts(db, (fault) => faultAlert(fault, { operatorId, storeId: fault.storeId }), routing, formatUtcIso(clock.nowMs()));
    for (const delivery of dueDeliveries(db, formatUtcIso(clock.nowMs()), DELIVERIES_PER_RUN)) {
      const url = endpoints?.urlFor(delivery.target, delivery.storeId);
      const answer: EndpointAnswer | undefined = url ? await attempt(url, delivery.target, delivery) : undefined;
      const nowMs = clock.nowMs();
      // No endpoint: it left the configuration after the alert was queued; nowhere to send it.
      const step: DeliveryStep = answer ? afterAttempt(delivery.attempts, answer, nowMs) : { state: 'failed', attempts: delivery.attempts + 1, reason: 'alert.no_endpoint' };
      recordDeliveryStep(db, audit, delivery, step, answer && 'status' in answer ? answer.status : undefined, formatUtcIso(nowMs));
      if (step.state === 'delivered') report.delivered += 1;
      else if (step.state === 'retry') report.retrying += 1;
      else {
        report.failed += 1;
        deps.log(`relay: alert ${delivery.alertId} to ${delivery.target} given up after ${step.attempts} attempt(s): ${step.reason}`);
      }
    }
    return report;
  }

  let running: Promise<RunReport> = Promise.resolve({ delivered: 0, retrying: 0, failed: 0 });
  let timer: unknown;
  let closed = false;
  function schedule(delayMs: number): void {
    if (closed) return;
    if (timer !== undefined) timers.clear(timer);
    timer = timers.set(() => {
      timer = undefined;
      void run().catch((error: unknown) => deps.log(`relay: alert run failed: ${error instanceof AppError ? error.code : 'internal'}`));
    }, delayMs);
  }
  function run(): Promise<RunReport> {
    running = running.catch(() => undefined).then(async () => {
      try {
        return await runOnce();
      } finally {
        const next = nextDeliveryAt(db);
        const untilNextMs = next === undefined ? ALERT_WATCH_INTERVAL_MS : Date.parse(next) - clock.nowMs();
        schedule(Math.max(0, Math.min(untilNextMs, ALERT_WATCH_INTERVAL_MS)));
      }
    });
    return running;
  }
  schedule(0);

  return {
    run,
    poke: () => schedule(0),
    async close() {
      closed = true;
      if (timer !== undefined) timers.clear(timer);
      await running.catch(() => undefined);
      for (const client of clients.values()) await client.close();
    },
  };
}
