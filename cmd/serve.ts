// Long-running commands end on SIGINT or SIGTERM after closing their listeners and databases.

import { usageError } from '../core/errors.ts';
import type { RequestHandler } from '../drivers/http/server.ts';
import { parseListen } from './config.ts';

export function waitForShutdown(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      close().then(resolve, reject);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** What a server adds when asked for health and metrics on their own address (--metrics-listen). */
export interface Observability {
  metrics: import('../drivers/http/health.ts').ServerMetrics | undefined;
  url: string | undefined;
  /** The handler, timed and counted per path and status when metrics are on. */
  timed(handler: RequestHandler): RequestHandler;
  refused(reason: string): void;
  close(): Promise<void>;
}

export async function startObservability(options: {
  role: 'center' | 'relay';
  listen: string | undefined;
  mainAddress: { host: string; port: number };
  knownPaths: readonly string[];
  auditEntries(): number;
  health(): Record<string, unknown>;
}): Promise<Observability> {
  if (options.listen === undefined) {
    return { metrics: undefined, url: undefined, timed: (handler) => handler, refused: () => undefined, close: async () => undefined };
  }
  const { host, port } = parseListen(options.listen, '--metrics-listen');
  if (host === options.mainAddress.host && port !== 0 && port === options.mainAddress.port) {
    throw usageError('--metrics-listen must differ from the mutual-TLS address: health and metrics never share its port');
  }
  // prom-client and node:http are loaded only for a server that asks for metrics.
  const { createServerMetrics, startHealthServer } = await import('../drivers/http/health.ts');
  const metrics = createServerMetrics(options.role, options.knownPaths, { auditEntries: options.auditEntries });
  const server = await startHealthServer({ host, port, metrics, health: options.health });
  return {
    metrics,
    url: server.url,
    timed: (handler) => async (request) => {
      const startedMs = performance.now();
      const response = await handler(request);
      metrics.observeRequest(request.path, response.status, (performance.now() - startedMs) / 1000);
      return response;
    },
    refused: (reason) => metrics.refusedConnection(reason),
    close: () => server.close(),
  };
}
