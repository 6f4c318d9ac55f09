// The intake attacks of a hostile tenant who can reach a function's port, against each runtime
// as a child process: connections that declare large bodies and stall before the last byte,
// and many large reviews at once. What the load suite asserts and what prints the figures:
//
//   ./dev exec -- node test/load/intake.ts knative|openfaas|standalone [before-checkout-dir]

import { readFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { sharedDir } from '../support/apiserver.ts';
import {
  type RuntimeName,
  type RuntimeUnderTest,
  sendReview,
  startRuntime,
} from '../support/every-runtime.ts';
import { largeReview, MiB } from '../support/large-review.ts';
import type { Json } from '../support/reviews.ts';
import { residentMiB } from './support.ts';

export interface StalledUpload {
  /** Everything the server sent on the connection, once it closed. */
  readonly answer: Promise<{ text: string; afterMs: number }>;
  destroy(): void;
}

/**
 * A connection that declares `declared` bytes of JSON body, sends `sent` of them, then stalls.
 * The answer resolves when the server closes the connection (with whatever it said first).
 */
export function stallUpload(runtime: RuntimeUnderTest, declared: number, sent: number): StalledUpload {
  const url = new URL(runtime.reviewUrl);
  const port = Number(url.port);
  const socket: Socket = runtime.ca
    ? connectTls({ host: url.hostname, port, ca: runtime.ca, servername: 'localhost' })
    : connectTcp(port, url.hostname);
  const started = performance.now();
  socket.once(runtime.ca ? 'secureConnect' : 'connect', () => {
    socket.write(
      `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${declared}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(sent, 0x20));
  });
  const answer = new Promise<{ text: string; afterMs: number }>((resolve) => {
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ text, afterMs: performance.now() - started }));
  });
  return { answer, destroy: () => socket.destroy() };
}

/** The HTTP status on the first line of a raw answer (0 when the server said nothing). */
export function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
}

/** A review of `bytes` (a Knative pod grown with environment variables). */
export function bigReview(bytes: number): Json {
  const fixture = JSON.parse(
    readFileSync(join(sharedDir, 'fixtures', 'plain-pod-no-labels.v1.json'), 'utf8'),
  );
  return largeReview(fixture, bytes);
}

/** Samples the resident size every 100 ms until stopped; the peak and the last sample. */
export function sampleResident(pid: number): { stop(): { peakMiB: number; lastMiB: number } } {
  let peak = residentMiB(pid) ?? 0;
  let last = peak;
  const timer = setInterval(() => {
    last = residentMiB(pid) ?? last;
    peak = Math.max(peak, last);
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      last = residentMiB(pid) ?? last;
      return { peakMiB: Math.max(peak, last), lastMiB: last };
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The two measurements on one fresh process; figures in MiB and seconds. */
export async function measure(runtime: RuntimeUnderTest) {
  await sleep(1000);
  const startMiB = residentMiB(runtime.pid) ?? 0;
  // 64 connections, each declaring 8 MiB and stalling 64 KiB before the end.
  const sampler = sampleResident(runtime.pid);
  const uploads = Array.from({ length: 64 }, () => stallUpload(runtime, 8 * MiB, 8 * MiB - 64 * 1024));
  const deadline = sleep(70_000).then(() => 'still open after 70 s');
  const answers = await Promise.all(uploads.map((u) => Promise.race([u.answer, deadline])));
  for (const upload of uploads) upload.destroy();
  const stalled = sampler.stop();
  await sleep(3000);
  const afterStallMiB = residentMiB(runtime.pid) ?? 0;
  const statuses: Record<string, number> = {};
  let slowest = 0;
  for (const answer of answers) {
    const key =
      typeof answer === 'string'
        ? answer
        : `${statusOf(answer.text)} ${/"message":"(.{0,40})/.exec(answer.text)?.[1] ?? ''}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (typeof answer !== 'string') slowest = Math.max(slowest, answer.afterMs);
  }
  // 48 concurrent reviews of 8 MiB.
  const body = JSON.stringify(bigReview(8 * MiB - 4096));
  const reviewsSampler = sampleResident(runtime.pid);
  const replies = await Promise.all(
    Array.from({ length: 48 }, () =>
      sendReview(runtime, body).then(
        (r) => `${r.status} ${String(r.json?.message ?? '').slice(0, 40)}`,
        (error: Error) => `failed: ${error.message}`,
      ),
    ),
  );
  const reviews = reviewsSampler.stop();
  const replyStatuses: Record<string, number> = {};
  for (const status of replies) replyStatuses[status] = (replyStatuses[status] ?? 0) + 1;
  await sleep(3000);
  return {
    runtime: runtime.name,
    startMiB: Math.round(startMiB),
    stallPeakMiB: Math.round(stalled.peakMiB),
    afterStallMiB: Math.round(afterStallMiB),
    stallAnswers: statuses,
    slowestStallAnswerSeconds: Number((slowest / 1000).toFixed(1)),
    reviewsPeakMiB: Math.round(reviews.peakMiB),
    reviewStatuses: replyStatuses,
    afterReviewsMiB: Math.round(residentMiB(runtime.pid) ?? 0),
  };
}

if (import.meta.main) {
  const [name, root] = process.argv.slice(2) as [RuntimeName, string | undefined];
  const runtime = await startRuntime(name, {}, root);
  try {
    process.stdout.write(`${JSON.stringify(await measure(runtime))}\n`);
  } finally {
    await runtime.stop();
  }
}
