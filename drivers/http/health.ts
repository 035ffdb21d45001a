// Health and metrics for the servers, on an address of their own, never on the mutual-TLS port:
// `GET /healthz` (JSON, 200 while the server runs and reaches its store, 503 when its store is out of
// reach) and `GET /metrics` (Prometheus text format,
// from prom-client). Plain HTTP: it belongs on a management network or loopback, and it says
// nothing about residents, only counts.

import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AppError } from '../../core/errors.ts';

export interface ServerMetrics {
  readonly registry: Registry;
  /** A request answered on the mutual-TLS port; unknown paths are counted as "other". */
  observeRequest(path: string, status: number, seconds: number): void;
  refusedConnection(reason: string): void;
}

export function createServerMetrics(role: 'center' | 'relay', knownPaths: readonly string[], gauges: { auditEntries(): number }): ServerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'cvs_issue_requests_total', help: 'Requests answered on the mutual-TLS port, by path and status.', labelNames: ['path', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'cvs_issue_request_duration_seconds',
    help: 'Time from the request to its answer, by path.',
    labelNames: ['path'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const refused = new Counter({ name: 'cvs_issue_refused_connections_total', help: 'Connections refused in the TLS handshake or by the connection caps, by reason.', labelNames: ['reason'], registers: [registry] });
  new Gauge({
    name: 'cvs_issue_audit_log_entries',
    help: "Entries in this role's audit log.",
    registers: [registry],
    collect() {
      this.set(gauges.auditEntries());
    },
  });
  const known = new Set(knownPaths);
  return {
    registry,
    observeRequest(path, status, seconds) {
      const label = known.has(path) ? path : 'other';
      requests.inc({ path: label, status: String(status) });
      duration.observe({ path: label }, seconds);
    },
    // Reasons are TLS error codes and the cap's two phrases: a small set; anything else is cut short.
    refusedConnection: (reason) => refused.inc({ reason: reason.slice(0, 60) }),
  };
}

export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

export function startHealthServer(options: { host: string; port: number; metrics: ServerMetrics; health: () => Record<string, unknown> }): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || (path !== '/healthz' && path !== '/metrics')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (path === '/healthz') {
      let health: Record<string, unknown>;
      try {
        health = { status: 'ok', ...options.health() };
      } catch (error) {
        // The store out of reach (a PostgreSQL server down): 503, so a balancer sends elsewhere;
        // never a crash of the server for a question about it.
        const unavailable = error instanceof AppError && error.kind === 'unavailable';
        response.writeHead(unavailable ? 503 : 500, { 'content-type': 'application/json' }).end(`${JSON.stringify({ status: unavailable ? 'unavailable' : 'failing', code: error instanceof AppError ? error.code : 'internal' })}\n`);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(health)}\n`);
      return;
    }
    options.metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', (error: Error & { code?: string }) => {
      const address = `${options.host}:${options.port}`;
      reject(error.code === 'EADDRINUSE' ? new AppError('usage', 'server.address_in_use', `cannot listen on ${address} for metrics: the address is already in use`, address) : error);
    });
    server.listen(options.port, options.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${hostInUrl}:${port}`,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          })),
      });
    });
  });
}
