// The centre's side of the municipality back-end contract (docs/municipality-backend.md): over
// mutual TLS, with the centre's back-end client certificate, it asks a municipality's own system
// for one of its residents. An answer that does not come in time, or that is not a resident record
// of that municipality and that resident, is a refusal with its own code: the kiosk says so and no
// certificate is issued from it.

import { AppError } from '../../core/errors.ts';
import type { Municipality } from '../../core/municipality.ts';
import { parseResidentRecord, type Resident } from '../../core/resident.ts';
import { createMutualTlsClient, type HttpClient } from '../http/client.ts';
import type { RemoteResidents } from '../store/center-store.ts';

export const BACKEND_RESIDENT_PATH = '/v1/residents/find';

/** A back end answers within this, connection and handshake included, or the request is refused. */
export const BACKEND_TIMEOUT_MS = 3_000;

export interface BackendClientOptions {
  /** The centre's back-end client certificate and key (center.backendClientTls). */
  certificatePem: string;
  keyPem: string;
  /** The CA file a municipality's back end certificate chains to, read from the deployment. */
  readCa(caFile: string): string;
  /**
   * Whether certificates from this CA must also name the municipality (O = its code): true for the
   * centre CA, which certifies every reference back end of a deployment at the same addresses, so
   * that one cannot answer for another. A municipality's own CA certifies only its own system.
   */
  sharedCa(caFile: string): boolean;
  timeoutMs?: number;
}

const unavailable = () => new AppError('refused', 'municipality.backend_unavailable', "the municipality's system did not answer");
const invalid = (why: string) => new AppError('refused', 'municipality.backend_invalid', `the municipality's system answered with ${why}`);

export function createBackendResidents(options: BackendClientOptions): RemoteResidents & { close(): Promise<void> } {
  /** One kept-alive client per back end (its URL and CA). */
  const clients = new Map<string, HttpClient>();
  const clientOf = (municipality: Municipality): HttpClient => {
    const { url, caFile } = municipality.backend!;
    const key = `${municipality.code}\n${url}\n${caFile}`;
    let client = clients.get(key);
    if (client === undefined) {
      client = createMutualTlsClient({
        baseUrl: url,
        caPem: options.readCa(caFile),
        certificatePem: options.certificatePem,
        keyPem: options.keyPem,
        ...(options.sharedCa(caFile) ? { expectedServerOrganization: municipality.code } : {}),
        timeoutMs: options.timeoutMs ?? BACKEND_TIMEOUT_MS,
        maxResponseBytes: 64 * 1024,
        maxConnections: 4,
      });
      clients.set(key, client);
    }
    return client;
  };
  return {
    async find(municipality, residentId): Promise<Resident | undefined> {
      let answer: { status: number; body: Uint8Array };
      try {
        answer = await clientOf(municipality).request('POST', BACKEND_RESIDENT_PATH, JSON.stringify({ municipalityCode: municipality.code, residentId }), { 'content-type': 'application/json', accept: 'application/json' });
      } catch {
        throw unavailable();
      }
      if (answer.status === 404) return undefined;
      if (answer.status !== 200) throw answer.status >= 500 ? unavailable() : invalid(`HTTP ${answer.status}`);
      let body: { resident?: unknown } | undefined;
      try {
        body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(answer.body)) as { resident?: unknown } | undefined;
      } catch {
        throw invalid('something that is not JSON');
      }
      let resident: Resident;
      try {
        resident = parseResidentRecord(body?.resident);
      } catch (error) {
        throw invalid(error instanceof AppError ? `a resident record whose ${error.where ?? 'content'} is malformed` : 'something that is not a resident record');
      }
      if (resident.residentId !== residentId || resident.municipalityCode !== municipality.code) throw invalid('another resident than the one asked for');
      return resident;
    },
    async close() {
      await Promise.all([...clients.values()].map((client) => client.close()));
      clients.clear();
    },
  };
}
