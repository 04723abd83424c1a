import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@frostyard/kit";
import { DOCKER_HUB } from "./reference";

/** What a registry login gives: a user and password, or an OAuth2 refresh token (`identitytoken`). */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** Docker's `identitytoken`: exchanged for access tokens at the Bearer realm (grant_type=refresh_token). */
  identityToken?: string;
}

/** Credentials plus where they came from (a file path or "explicit"), for debug logs without the secret. */
export interface FoundCredentials {
  credentials: RegistryCredentials;
  source: string;
}

export interface CredentialStoreOptions {
  /** Credentials given in code, keyed by registry host; they win over every auth file. */
  explicit?: Record<string, RegistryCredentials>;
  /** Environment to read REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR and DOCKER_CONFIG from; default process.env. */
  env?: Record<string, string | undefined>;
  homeDir?: string;
  /** Replace the search order entirely (tests, or an action's `auth-file` input). */
  authFiles?: string[];
  logger?: Logger;
}

/**
 * The auth files consulted, in order: REGISTRY_AUTH_FILE, `${XDG_RUNTIME_DIR}/containers/auth.json`
 * (podman/skopeo/buildah login), then docker's `config.json` in DOCKER_CONFIG or `~/.docker`.
 */
export function authFilePaths(env: Record<string, string | undefined>, homeDir: string): string[] {
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  paths.push(join(env.DOCKER_CONFIG || join(homeDir, ".docker"), "config.json"));
  return paths;
}

const DOCKER_HUB_KEYS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/**
 * An auths key as docker or podman write it, reduced to `host[/path]`: `https://index.docker.io/v1/` →
 * `docker.io`, `https://ghcr.io` → `ghcr.io`, `quay.io/acme` → `quay.io/acme` (podman's per-namespace logins).
 */
export function normaliseAuthKey(key: string): string {
  let rest = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  rest = rest.replace(/\/v[12]\/?$/, "").replace(/\/+$/, "");
  const slash = rest.indexOf("/");
  const host = (slash >= 0 ? rest.slice(0, slash) : rest).toLowerCase();
  const path = slash >= 0 ? rest.slice(slash) : "";
  return (DOCKER_HUB_KEYS.has(host) ? DOCKER_HUB : host) + path;
}

/** Keys to look for, most specific first: `host/ns/repo`, `host/ns`, `host`. */
export function lookupKeys(registry: string, repository?: string): string[] {
  const host = normaliseAuthKey(registry);
  const keys: string[] = [];
  if (repository) {
    const parts = repository.split("/");
    for (let n = parts.length; n >= 1; n--) keys.push(`${host}/${parts.slice(0, n).join("/")}`);
  }
  keys.push(host);
  return keys;
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Decodes one auths entry; undefined when it holds nothing usable (docker leaves `{}` when a helper has the secret). */
export function decodeAuthEntry(entry: AuthEntry, where: string): RegistryCredentials | undefined {
  const credentials: RegistryCredentials = {};
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new Error(`${where}: "auth" is not base64 of "username:password"`);
    }
    credentials.username = decoded.slice(0, colon);
    credentials.password = decoded.slice(colon + 1);
  } else {
    if (typeof entry.username === "string" && entry.username !== "") credentials.username = entry.username;
    if (typeof entry.password === "string" && entry.password !== "") credentials.password = entry.password;
  }
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
    credentials.identityToken = entry.identitytoken;
  }
  if (credentials.password === undefined && credentials.identityToken === undefined) return undefined;
  return credentials;
}

/**
 * Reads registry credentials the way podman and docker store them. Credential helpers (`credsStore`,
 * `credHelpers`) are not run: that would execute programs named in a user file; the store says so in a
 * debug line and looks at the next file.
 */
export class CredentialStore {
  private readonly explicit = new Map<string, RegistryCredentials>();
  private readonly paths: string[];
  private readonly logger?: Logger;
  private files?: Promise<{ path: string; content: AuthFile }[]>;
  private readonly reportedHelpers = new Set<string>();

  constructor(options: CredentialStoreOptions = {}) {
    this.logger = options.logger;
    this.paths = options.authFiles ?? authFilePaths(options.env ?? process.env, options.homeDir ?? homedir());
    for (const [registry, credentials] of Object.entries(options.explicit ?? {}))
      this.set(registry, credentials);
  }

  /** The auth files this store reads, in order. */
  get authFiles(): readonly string[] {
    return this.paths;
  }

  /** Sets credentials for a registry in code (an action input, say); they win over the auth files. */
  set(registry: string, credentials: RegistryCredentials): void {
    this.mask(credentials);
    this.explicit.set(normaliseAuthKey(registry), credentials);
  }

  /** Credentials for `registry` (and optionally a repository, for per-namespace logins), or undefined. */
  async get(registry: string, repository?: string): Promise<FoundCredentials | undefined> {
    const keys = lookupKeys(registry, repository);
    for (const key of keys) {
      const explicit = this.explicit.get(key);
      if (explicit) return { credentials: explicit, source: "explicit" };
    }
    for (const { path, content } of await this.loadFiles()) {
      const entries = new Map<string, AuthEntry>();
      for (const [key, entry] of Object.entries(content.auths ?? {})) {
        const normalised = normaliseAuthKey(key);
        if (!entries.has(normalised) && entry && typeof entry === "object") entries.set(normalised, entry);
      }
      for (const key of keys) {
        const entry = entries.get(key);
        if (!entry) continue;
        const credentials = decodeAuthEntry(entry, `${path}: auths entry for ${key}`);
        if (credentials) {
          this.mask(credentials);
          return { credentials, source: path };
        }
      }
      this.reportHelper(path, content, keys);
    }
    return undefined;
  }

  private reportHelper(path: string, content: AuthFile, keys: string[]): void {
    const helperKey = Object.keys(content.credHelpers ?? {}).find((k) => keys.includes(normaliseAuthKey(k)));
    const helper = helperKey ? content.credHelpers?.[helperKey] : content.credsStore;
    if (!helper) return;
    const note = `${path}:${helper}:${keys.at(-1)}`;
    if (this.reportedHelpers.has(note)) return;
    this.reportedHelpers.add(note);
    this.logger?.debug(
      `${path} names the credential helper docker-credential-${helper} for ${keys.at(-1)}; credential helpers are not supported, so it is skipped (log in with podman/skopeo login, or set REGISTRY_AUTH_FILE)`,
    );
  }

  private mask(credentials: RegistryCredentials): void {
    if (credentials.password) this.logger?.setSecret(credentials.password);
    if (credentials.identityToken) this.logger?.setSecret(credentials.identityToken);
    if (credentials.username && credentials.password) {
      this.logger?.setSecret(
        Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64"),
      );
    }
  }

  private loadFiles(): Promise<{ path: string; content: AuthFile }[]> {
    this.files ??= Promise.all(
      this.paths.map(async (path) => ({ path, content: await readAuthFile(path, this.logger) })),
    ).then((files) => files.filter((f): f is { path: string; content: AuthFile } => f.content !== undefined));
    return this.files;
  }
}

async function readAuthFile(path: string, logger?: Logger): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      logger?.debug(`auth file ${path} does not exist; skipped`);
      return undefined;
    }
    throw new Error(`cannot read registry auth file ${path}: ${(error as Error).message}`);
  }
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `registry auth file ${path} is not valid JSON (${(error as Error).message}); expected {"auths": {"<registry>": {"auth": "<base64 user:password>"}}}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`registry auth file ${path} is not a JSON object; expected {"auths": {…}}`);
  }
  return parsed as AuthFile;
}
