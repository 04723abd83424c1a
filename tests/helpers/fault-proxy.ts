import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * An HTTP proxy on 127.0.0.1 that forwards to a real registry and breaks chosen requests the ways
 * hosted registries do (GHCR's 502/429, connections cut mid-upload, bodies cut short, stalls). Which
 * request gets which fault is a schedule: fixed rules for tests ("reset the 2nd blob PUT after 1 MiB"),
 * or a seeded PRNG at a rate for the benchmark. Every fault is bounded: a stall ends in a reset after
 * `ms`, so nothing hangs past it whatever the client does.
 */

export type Fault =
  /**
   * Answer without forwarding (the request body is read and dropped first). 401/403/404 are permanent
   * answers, for tests that check they are not retried; the seeded schedules draw only 429/502/503.
   */
  | { kind: "status"; status: 401 | 403 | 404 | 429 | 502 | 503; retryAfterSeconds?: number }
  /** Forward the first `afterBytes` of the request body, then reset both connections. */
  | { kind: "reset-request"; afterBytes: number }
  /** Relay the response headers and `afterBytes` of its body, then reset the connection. */
  | { kind: "reset-response"; afterBytes: number }
  /** Relay the headers and `afterBytes` of the body, then close cleanly: the body ends short of its length. */
  | { kind: "truncate"; afterBytes: number }
  /** Relay the headers and `afterBytes` of the body, then send nothing for `ms`, then reset. */
  | { kind: "stall"; afterBytes: number; ms: number };

export type FaultKind = Fault["kind"];

export type RequestKind =
  | "base"
  | "manifest-get"
  | "manifest-head"
  | "manifest-put"
  | "blob-get"
  | "blob-head"
  | "upload-start"
  | "blob-patch"
  | "blob-put"
  | "tags"
  | "other";

export interface ProxiedRequest {
  /** 1-based, over all requests the proxy saw. */
  index: number;
  method: string;
  path: string;
  kind: RequestKind;
  /** 1-based, over requests of this kind. */
  nth: number;
}

export type FaultSchedule = (request: ProxiedRequest) => Fault | undefined;

/** Which distribution API call a request is (method and path), for schedules that name them. */
export function classifyRequest(method: string, path: string): RequestKind {
  const pathname = path.split("?")[0]!;
  if (/^\/v2\/?$/.test(pathname)) return "base";
  const match = /^\/v2\/.+?\/(manifests|blobs|tags)\/(.+)$/.exec(pathname);
  if (!match) return "other";
  const [, section, rest] = match;
  if (section === "tags") return method === "GET" ? "tags" : "other";
  if (section === "manifests") {
    if (method === "GET") return "manifest-get";
    if (method === "HEAD") return "manifest-head";
    if (method === "PUT") return "manifest-put";
    return "other";
  }
  if (rest!.startsWith("uploads")) {
    if (method === "POST") return "upload-start";
    if (method === "PATCH") return "blob-patch";
    if (method === "PUT") return "blob-put";
    return "other";
  }
  if (method === "GET") return "blob-get";
  if (method === "HEAD") return "blob-head";
  return "other";
}

/** Faults for the n-th request of a kind, each used once. */
export function scheduledFaults(rules: { kind: RequestKind; nth: number; fault: Fault }[]): FaultSchedule {
  return (request) => rules.find((r) => r.kind === request.kind && r.nth === request.nth)?.fault;
}

/** mulberry32: a tiny seeded PRNG, so a schedule is the same on every run and machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const ALL_FAULT_KINDS: readonly FaultKind[] = [
  "status",
  "reset-request",
  "reset-response",
  "truncate",
  "stall",
];

/**
 * Each request is faulty with probability `rate`, the fault drawn uniformly from `kinds` (statuses
 * from 429/502/503; byte offsets up to 2 MiB), all from one seeded PRNG.
 */
export function seededFaults(options: {
  seed: number;
  rate: number;
  kinds?: readonly FaultKind[];
  stallMs?: number;
}): FaultSchedule {
  const random = seededRandom(options.seed);
  const kinds = options.kinds ?? ALL_FAULT_KINDS;
  const stallMs = options.stallMs ?? 2_000;
  return () => {
    const faulty = random() < options.rate;
    const kind = kinds[Math.floor(random() * kinds.length)]!;
    const afterBytes = Math.floor(random() * 2 * 1024 * 1024);
    const status = ([429, 502, 503] as const)[Math.floor(random() * 3)]!;
    if (!faulty) return undefined;
    switch (kind) {
      case "status":
        return status === 429 ? { kind, status, retryAfterSeconds: 1 } : { kind, status };
      case "stall":
        return { kind, afterBytes, ms: stallMs };
      default:
        return { kind, afterBytes };
    }
  };
}

export interface ProxyLogEntry extends ProxiedRequest {
  fault?: Fault;
  /** The status relayed or answered, when headers went out. */
  status?: number;
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`: use it as the registry part of references. */
  host: string;
  url: string;
  log: ProxyLogEntry[];
  /** Faults injected so far. */
  faults(): number;
  /** A new schedule; request counts per kind start again at 1. */
  setSchedule(schedule: FaultSchedule | undefined): void;
  stop(): Promise<void>;
}

/** Starts a proxy in front of `upstream` (`127.0.0.1:PORT` of a plain-HTTP registry). */
export async function startFaultProxy(upstream: string, schedule?: FaultSchedule): Promise<FaultProxy> {
  const [upstreamHost, upstreamPort] = upstream.split(":") as [string, string];
  const log: ProxyLogEntry[] = [];
  const counts = new Map<RequestKind, number>();
  const timers = new Set<NodeJS.Timeout>();
  let current = schedule;
  let index = 0;

  const reset = (socket: Socket | null | undefined) => {
    if (socket && !socket.destroyed) socket.resetAndDestroy();
  };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const method = request.method ?? "GET";
    const path = request.url ?? "/";
    const kind = classifyRequest(method, path);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    const info: ProxiedRequest = { index: ++index, method, path, kind, nth: counts.get(kind)! };
    const fault = current?.(info);
    const entry: ProxyLogEntry = fault ? { ...info, fault } : info;
    log.push(entry);

    if (fault?.kind === "status") {
      request.resume();
      request.on("end", () => {
        const code =
          { 401: "UNAUTHORIZED", 403: "DENIED", 404: "MANIFEST_UNKNOWN" }[fault.status as number] ??
          "UNAVAILABLE";
        const body = JSON.stringify({ errors: [{ code, message: `injected ${fault.status}` }] });
        entry.status = fault.status;
        response.writeHead(fault.status, {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(body),
          ...(fault.retryAfterSeconds !== undefined
            ? { "Retry-After": String(fault.retryAfterSeconds) }
            : {}),
        });
        response.end(body);
      });
      return;
    }

    const forward = httpRequest(
      { host: upstreamHost, port: Number(upstreamPort), method, path, headers: request.headers },
      (upstreamResponse) => {
        const headers = { ...upstreamResponse.headers };
        // The registry builds absolute Locations from the Host header, which is forwarded as is; keep
        // any that name the registry itself pointing at the proxy too.
        if (typeof headers.location === "string") {
          headers.location = headers.location.replace(`//${upstream}/`, `//${host}/`);
        }
        const bodyFault = fault && fault.kind !== "reset-request" && method !== "HEAD" ? fault : undefined;
        const length = Number(upstreamResponse.headers["content-length"] ?? NaN);
        if (fault && fault.kind !== "reset-request" && (method === "HEAD" || length === 0)) {
          // Nothing to cut: break the exchange before the headers.
          upstreamResponse.resume();
          if (fault.kind === "stall") {
            const timer = setTimeout(() => {
              timers.delete(timer);
              reset(request.socket);
            }, fault.ms);
            timers.add(timer);
          } else reset(request.socket);
          return;
        }
        entry.status = upstreamResponse.statusCode ?? 502;
        response.writeHead(entry.status, headers);
        if (!bodyFault) {
          upstreamResponse.pipe(response);
          return;
        }
        // A body shorter than the offset is cut in its middle, so the fault always lands.
        const cutAt = Number.isFinite(length)
          ? Math.min(bodyFault.afterBytes, Math.floor(length / 2))
          : bodyFault.afterBytes;
        let sent = 0;
        let cut = false;
        upstreamResponse.on("data", (chunk: Buffer) => {
          if (cut) return;
          const room = cutAt - sent;
          if (chunk.length < room) {
            sent += chunk.length;
            response.write(chunk);
            return;
          }
          cut = true;
          if (room > 0) response.write(chunk.subarray(0, room));
          upstreamResponse.destroy();
          if (bodyFault.kind === "truncate") {
            // End the socket cleanly: the client sees fewer bytes than Content-Length announced.
            request.socket.end();
          } else if (bodyFault.kind === "reset-response") {
            reset(request.socket);
          } else {
            const timer = setTimeout(() => {
              timers.delete(timer);
              reset(request.socket);
            }, bodyFault.ms);
            timers.add(timer);
          }
        });
        upstreamResponse.on("end", () => !cut && response.end());
      },
    );
    forward.on("error", () => reset(request.socket));

    if (fault?.kind === "reset-request") {
      let received = 0;
      request.on("data", (chunk: Buffer) => {
        if (received >= fault.afterBytes) return;
        const room = fault.afterBytes - received;
        received += chunk.length;
        if (chunk.length < room) return void forward.write(chunk);
        forward.write(chunk.subarray(0, room));
        forward.destroy();
        reset(request.socket);
      });
      // A body shorter than the offset: cut it at its end, before the registry answers.
      request.on("end", () => {
        forward.destroy();
        reset(request.socket);
      });
      return;
    }
    request.pipe(forward);
  };

  const server = createServer(handle);
  // Keep connections open between requests, as a registry's load balancer does.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const host = `127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return {
    host,
    url: `http://${host}`,
    log,
    faults: () => log.filter((e) => e.fault).length,
    setSchedule(next) {
      current = next;
      counts.clear();
    },
    stop: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
