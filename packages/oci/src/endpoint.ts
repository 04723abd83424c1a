import { DOCKER_HUB } from "./reference";

/** Docker Hub's API lives on another host than its name in references. */
const DOCKER_HUB_API = "registry-1.docker.io";

/** Splits `host[:port]` (IPv6 in brackets) into host and port. */
export function splitHostPort(registry: string): { host: string; port?: string } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(registry);
  if (!match) return { host: registry };
  return match[2] === undefined ? { host: match[1]! } : { host: match[1]!, port: match[2] };
}

/** `localhost`, `127.0.0.0/8` and `[::1]`, with or without a port: reachable only from this machine. */
export function isLoopbackRegistry(registry: string): boolean {
  const { host } = splitHostPort(registry.toLowerCase());
  if (host === "localhost" || host === "[::1]") return true;
  const octets = host.split(".");
  return (
    octets.length === 4 && octets[0] === "127" && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)
  );
}

/**
 * Whether `registry` may be spoken to over plain HTTP: loopback registries, and hosts listed in
 * `insecureRegistries` (an entry without a port matches every port of that host).
 */
export function allowsPlainHttp(registry: string, insecureRegistries: readonly string[] = []): boolean {
  if (isLoopbackRegistry(registry)) return true;
  const lower = registry.toLowerCase();
  const { host } = splitHostPort(lower);
  return insecureRegistries.some((entry) => {
    const e = entry.trim().toLowerCase();
    return e === lower || (splitHostPort(e).port === undefined && e === host);
  });
}

/** The origin of a registry's /v2/ API: HTTPS unless plain HTTP is allowed for it; Docker Hub → registry-1.docker.io. */
export function registryBaseUrl(registry: string, insecureRegistries: readonly string[] = []): string {
  const host = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
  return `${allowsPlainHttp(registry, insecureRegistries) ? "http" : "https"}://${host}`;
}

/** The `rel="next"` target of a Link header (tag and referrers pagination), resolved against `base`. */
export function parseLinkNext(header: string | null | undefined, base: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rels = /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(match[2]!);
    if (rels && rels[1]!.split(/\s+/).includes("next")) return new URL(match[1]!, base).toString();
  }
  return undefined;
}
