// JSON over the mutual-TLS transport: one error handler turns typed errors into statuses on the way
// out, and statuses back into typed errors on the way in.

import { AppError } from '../../core/errors.ts';
import { httpStatusFor, kindOfAnswer } from './statuses.ts';
import type { ErrorBody } from '../../core/messages.ts';
import type { HttpClient } from './client.ts';
import type { IncomingRequest, OutgoingResponse, RequestHandler } from './server.ts';

export type JsonRoute = (body: unknown, request: IncomingRequest) => Promise<unknown> | unknown;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export function jsonResponse(status: number, value: unknown): OutgoingResponse {
  return { status, headers: JSON_HEADERS, body: JSON.stringify(value) };
}

/** A JSON body another server wrote, passed on as its bytes (the relay's forwarded answers). */
export function jsonBytesResponse(status: number, body: Uint8Array): OutgoingResponse {
  return { status, headers: JSON_HEADERS, body };
}

export function errorResponse(error: unknown): OutgoingResponse {
  const status = httpStatusFor(error);
  const body: ErrorBody =
    error instanceof AppError && error.kind !== 'internal'
      ? { error: { kind: error.kind, code: error.code, message: error.summary() } }
      : { error: { kind: 'internal', code: 'internal', message: 'internal error' } };
  return jsonResponse(status, body);
}

export function parseJsonBody(body: Uint8Array): unknown {
  return decodeJsonBody(body).value;
}

/**
 * A JSON body and its text: the relay checks the value and forwards the text as it came, which the
 * centre then parses to the same value (one parser, JSON.parse, on both sides), rather than
 * serialising the value again.
 */
export function decodeJsonBody(body: Uint8Array): { text: string; value: unknown } {
  try {
    const text = utf8Strict.decode(body);
    return { text, value: JSON.parse(text) };
  } catch {
    throw new AppError('input', 'request.bad_json', 'the request body is not valid UTF-8 JSON');
  }
}

/** Stateless between calls (no `stream`), so one decoder serves every request. */
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * A handler for POST routes with JSON bodies. `onError` sees every failure (for fault logs); it is
 * given the code only, never the body, so no personal data can leak into a log through it.
 */
export function jsonHandler(routes: Record<string, JsonRoute>, onError?: (code: string, path: string) => void): RequestHandler {
  return async (request) => {
    const route = routes[request.path];
    if (!route) return errorResponse(new AppError('not-found', 'http.no_route', `no such endpoint: ${request.path}`));
    if (request.method !== 'POST') {
      return { ...errorResponse(new AppError('input', 'http.method', 'use POST')), status: 405 };
    }
    try {
      return jsonResponse(200, await route(parseJsonBody(request.body), request));
    } catch (error) {
      onError?.(error instanceof AppError ? error.code : 'internal', request.path);
      return errorResponse(error);
    }
  };
}

/** POSTs JSON and returns the 200 body, or throws the peer's typed error. */
export async function callJson<T>(client: HttpClient, path: string, value: unknown, headers?: Record<string, string>): Promise<T> {
  const { status, json } = await client.postJson<unknown>(path, value, headers);
  if (status === 200) return json as T;
  const error = (json as Partial<ErrorBody> | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : `http.${status}`;
  const message = typeof error?.message === 'string' ? error.message : `the peer answered HTTP ${status}`;
  throw new AppError(kindOfAnswer(status, error?.kind), code, message);
}
