// A local OTLP/HTTP receiver: accepts http/protobuf exports as a collector does and decodes
// the trace requests (schema below: the fields of opentelemetry-proto's trace service that
// the tests read, with their field numbers).
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

const OTLP_TRACE_SCHEMA = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
  }
}
`;

const requestType = protobuf.parse(OTLP_TRACE_SCHEMA).root.lookupType('otlp.ExportTraceServiceRequest');

export const SPAN_KIND_SERVER = 2;
export const STATUS_CODE_ERROR = 2;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  durationNanos: bigint;
  attributes: Record<string, string | number | boolean>;
  status: { code: number; message: string };
  resource: Record<string, string | number | boolean>;
  scope: string;
}

interface KeyValue {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number };
}
interface DecodedSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: KeyValue[];
  status?: { code?: number; message?: string };
}
interface Decoded {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: DecodedSpan[] }[];
  }[];
}

function attributes(list: KeyValue[] = []): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value = {} } of list) {
    // int64 arrives as a string (longs: String keeps the nanosecond timestamps exact).
    const int = value.intValue === undefined ? undefined : Number(value.intValue);
    const v = value.stringValue ?? value.boolValue ?? int ?? value.doubleValue;
    if (v !== undefined) out[key] = v;
  }
  return out;
}

const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');

/** Decodes an ExportTraceServiceRequest (http/protobuf body) into flat spans. */
export function decodeTraceExport(body: Uint8Array): ReceivedSpan[] {
  const message = requestType.toObject(requestType.decode(body), {
    longs: String,
    enums: Number,
    defaults: false,
  }) as Decoded;
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of message.resourceSpans ?? []) {
    const resource = attributes(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          name: span.name,
          kind: span.kind ?? 0,
          durationNanos: BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano),
          attributes: attributes(span.attributes),
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
          resource,
          scope: scopeSpans.scope?.name ?? '',
        });
      }
    }
  }
  return spans;
}

export interface OtlpReceiver {
  /** The value for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** Raw bodies of metric exports, with their content type. */
  readonly metricExports: { contentType: string; body: Buffer }[];
  /** Resolves once `enough` holds for the spans received, or rejects after `ms`. */
  waitFor(enough: (spans: ReceivedSpan[]) => boolean, ms?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

function bodyOf(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metricExports: { contentType: string; body: Buffer }[] = [];
  const server = createServer(async (request, response) => {
    const body = await bodyOf(request);
    const contentType = request.headers['content-type'] ?? '';
    if (
      request.method === 'POST' &&
      request.url === '/v1/traces' &&
      contentType === 'application/x-protobuf'
    ) {
      spans.push(...decodeTraceExport(body));
    } else if (request.method === 'POST' && request.url === '/v1/metrics') {
      metricExports.push({ contentType, body });
    } else {
      response.writeHead(404).end();
      return;
    }
    // An empty Export*ServiceResponse: everything accepted.
    response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    metricExports,
    async waitFor(enough, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (!enough(spans)) {
        if (Date.now() > deadline) throw new Error(`OTLP receiver: ${spans.length} spans after ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return spans;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
