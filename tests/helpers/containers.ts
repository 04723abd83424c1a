import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Configuration for skopeo/buildah/podman child processes on this kind of machine (see
 * ../shared/REAL-COMPONENTS.md): runc instead of crun, ulimits root may set here, storage in a temp
 * dir, loopback registries over plain HTTP, and an accept-anything signature policy. Nothing is written
 * to /etc or $HOME; pass `env` to the child processes only.
 */
export interface ContainersConfig {
  dir: string;
  /** CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF, REGISTRY_AUTH_FILE. */
  env: Record<string, string>;
  /** For `skopeo --policy` / `podman --signature-policy` (no env var selects one). */
  policyPath: string;
  /** The auth file REGISTRY_AUTH_FILE points at (`{"auths":{}}` unless `auths` was given). */
  authFile: string;
  cleanup(): Promise<void>;
}

export interface ContainersConfigOptions {
  /** Registries (host[:port]) to mark insecure besides every 127.0.0.1 / localhost one given. */
  insecureRegistries?: string[];
  /** Entries for the auth file, keyed by registry host: `{ "127.0.0.1:5000": { user, password } }`. */
  auths?: Record<string, { user: string; password: string }>;
}

export function containersConf(): string {
  return [
    "[containers]",
    'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
    "[engine]",
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    "",
  ].join("\n");
}

export function storageConf(dir: string): string {
  return [
    "[storage]",
    'driver = "overlay"',
    `runroot = "${dir}/run"`,
    `graphroot = "${dir}/storage"`,
    "",
  ].join("\n");
}

export function registriesConf(insecure: string[]): string {
  const lines = ["unqualified-search-registries = []", ""];
  for (const location of insecure) {
    lines.push("[[registry]]", `location = "${location}"`, "insecure = true", "");
  }
  return lines.join("\n");
}

export function authFileJson(auths: Record<string, { user: string; password: string }>): string {
  const entries = Object.fromEntries(
    Object.entries(auths).map(([host, { user, password }]) => [
      host,
      { auth: Buffer.from(`${user}:${password}`).toString("base64") },
    ]),
  );
  return JSON.stringify({ auths: entries }, null, 2) + "\n";
}

export const INSECURE_POLICY = JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }) + "\n";

export async function containersConfig(options: ContainersConfigOptions = {}): Promise<ContainersConfig> {
  const dir = await mkdtemp(join(tmpdir(), "frostyard-containers-"));
  const paths = {
    conf: join(dir, "containers.conf"),
    storage: join(dir, "storage.conf"),
    registries: join(dir, "registries.conf"),
    auth: join(dir, "auth.json"),
    policy: join(dir, "policy.json"),
  };
  // registries.conf cannot wildcard ports, so loopback registries are listed by host:port.
  const insecure = [...new Set(["localhost", "127.0.0.1", ...(options.insecureRegistries ?? [])])];
  await Promise.all([
    writeFile(paths.conf, containersConf()),
    writeFile(paths.storage, storageConf(dir)),
    writeFile(paths.registries, registriesConf(insecure)),
    writeFile(paths.auth, authFileJson(options.auths ?? {}), { mode: 0o600 }),
    writeFile(paths.policy, INSECURE_POLICY),
  ]);
  return {
    dir,
    env: {
      CONTAINERS_CONF: paths.conf,
      CONTAINERS_STORAGE_CONF: paths.storage,
      CONTAINERS_REGISTRIES_CONF: paths.registries,
      REGISTRY_AUTH_FILE: paths.auth,
    },
    policyPath: paths.policy,
    authFile: paths.auth,
    cleanup: () => removeStorage(dir),
  };
}

/**
 * podman leaves its overlay storage bind-mounted on itself after a run; removing the directory under a
 * mount fails with EBUSY, so unmount everything below it first (deepest first), then remove it.
 */
async function removeStorage(dir: string): Promise<void> {
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const mounts = mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) {
    spawnSync("umount", ["--lazy", point], { stdio: "ignore" });
  }
  await rm(dir, { recursive: true, force: true });
}
