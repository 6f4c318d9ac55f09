// The stable HTTP server metric, http.server.request.duration, for every answer of every HTTP
// server in the process (faas-js-runtime's, the standalone and OpenFaaS servers), so that 4xx
// and 5xx answers that never became a review are counted; and the reviews in flight (POSTs
// received and not yet answered, slow bodies included). Node's diagnostics channel reports each
// request, so no request handler needs to know.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Attributes } from '@opentelemetry/api';
import { instruments } from './instruments.ts';

const REQUEST_START = 'http.server.request.start';

// Semantic conventions: any other method is `_OTHER`, so a client cannot mint new series.
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

export const HTTP_ATTR = {
  method: 'http.request.method',
  status: 'http.response.status_code',
  scheme: 'url.scheme',
  errorType: 'error.type',
} as const;

interface RequestStart {
  request: IncomingMessage;
  response: ServerResponse;
  server: Server;
}

/** Observes every HTTP server but those `ignored` says to skip (the metrics endpoint). Returns the stop. */
export function observeHttpServers(ignored: (server: Server) => boolean = () => false): () => void {
  const onStart = (message: unknown) => {
    const { request, response, server } = message as RequestStart;
    if (ignored(server)) return;
    const start = performance.now();
    const method = KNOWN_METHODS.has(request.method ?? '') ? (request.method as string) : '_OTHER';
    const review = method === 'POST';
    const metrics = instruments();
    if (review) metrics.inFlight.add(1);
    response.once('close', () => {
      if (review) metrics.inFlight.add(-1);
      // An answer never completed (the client went away) has no status to report.
      if (!response.writableFinished) return;
      const status = response.statusCode;
      const attributes: Attributes = {
        [HTTP_ATTR.method]: method,
        [HTTP_ATTR.status]: status,
        [HTTP_ATTR.scheme]: (request.socket as TLSSocket).encrypted ? 'https' : 'http',
      };
      if (status >= 500) attributes[HTTP_ATTR.errorType] = String(status);
      metrics.httpDuration.record((performance.now() - start) / 1000, attributes);
    });
  };
  subscribe(REQUEST_START, onStart);
  return () => unsubscribe(REQUEST_START, onStart);
}
