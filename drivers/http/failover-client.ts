// One client over several servers that share one store: several `center serve` processes on one
// PostgreSQL database (docs/postgres.md, "Several centres"). Requests are spread over the servers
// in turn; one that cannot be reached, drops the connection, times out or answers 503 is tried on
// the next, each server at most once per request. That is safe because every centre endpoint
// takes a repeat (docs/runtime-facts.md "Kept-alive connections"): the same request id, challenge
// answer or notice again gets the same answer, never a second issuance. A server that failed is
// put last for a while, so a dead centre costs one failed attempt, not one per request.

import { AppError } from '../../core/errors.ts';
import type { ClientResponse, HttpClient } from './client.ts';

export interface FailoverTarget {
  url: string;
  client: HttpClient;
}

/** How long a server that failed is tried only after the others. */
const SET_ASIDE_MS = 5_000;

/** Failures another server may not have: the request never got an answer from this one. */
function worthAnotherServer(error: unknown): boolean {
  return error instanceof AppError && error.kind === 'unavailable' && error.code.startsWith('transport.') && error.code !== 'transport.too_large';
}

export function createFailoverClient(targets: readonly FailoverTarget[], options: { nowMs?: () => number; log?: (line: string) => void } = {}): HttpClient {
  if (targets.length === 0) throw new AppError('usage', 'config.no_center', 'no centre URL given');
  const nowMs = options.nowMs ?? Date.now;
  const setAsideUntil = new Map<string, number>();
  let next = 0;

  /** This request's order: the next server in turn first, those set aside last. */
  const order = (): FailoverTarget[] => {
    const start = next;
    next = (next + 1) % targets.length;
    const turn = targets.map((_, offset) => targets[(start + offset) % targets.length]!);
    const now = nowMs();
    const fresh = turn.filter((target) => (setAsideUntil.get(target.url) ?? 0) <= now);
    return [...fresh, ...turn.filter((target) => !fresh.includes(target))];
  };

  const setAside = (target: FailoverTarget, why: string) => {
    if ((setAsideUntil.get(target.url) ?? 0) <= nowMs()) options.log?.(`centre ${new URL(target.url).host} set aside for ${SET_ASIDE_MS / 1000} s: ${why}`);
    setAsideUntil.set(target.url, nowMs() + SET_ASIDE_MS);
  };

  async function attempt<T>(send: (client: HttpClient) => Promise<T>, status: (result: T) => number): Promise<T> {
    let lastError: unknown;
    let lastUnavailable: T | undefined;
    for (const target of order()) {
      try {
        const result = await send(target.client);
        // A centre stopping (or whose store is unreachable) answers 503: another may not be.
        if (status(result) !== 503) {
          setAsideUntil.delete(target.url);
          return result;
        }
        lastUnavailable = result;
        setAside(target, 'answered 503');
      } catch (error) {
        if (!worthAnotherServer(error)) throw error;
        lastError = error;
        setAside(target, (error as AppError).code);
      }
    }
    if (lastUnavailable !== undefined) return lastUnavailable;
    throw lastError;
  }

  return {
    request: (method, path, body, headers) => attempt<ClientResponse>((client) => client.request(method, path, body, headers), (response) => response.status),
    postJson: <T>(path: string, value: unknown, headers?: Record<string, string>) => attempt((client) => client.postJson<T>(path, value, headers), (response) => response.status),
    close: async () => {
      await Promise.all(targets.map((target) => target.client.close()));
    },
  };
}

/** `https://a:8443,https://b:8443`: the centre URLs a relay spreads its requests over. */
export function splitServerUrls(text: string): string[] {
  return text.split(',').map((url) => url.trim()).filter((url) => url.length > 0);
}
