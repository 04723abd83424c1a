import { HttpStatusError, parseRetryAfter, type Logger } from "@frostyard/kit";
import type { CredentialStore, FoundCredentials, RegistryCredentials } from "./credentials";
import { RegistryAuthError, RegistryDeniedError } from "./errors";

/** One parsed `WWW-Authenticate` challenge; scheme lowercased (`bearer`, `basic`), parameter names lowercased. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN_CHARS = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses the first challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1): quoted values with
 * backslash escapes and commas inside quotes, bare values, several parameters. A second challenge
 * (`…, Basic realm="x"`) ends the first.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge {
  const text = header.trim();
  let i = 0;
  const readToken = (): string => {
    const start = i;
    while (i < text.length && TOKEN_CHARS.test(text[i]!)) i++;
    return text.slice(start, i);
  };
  const skip = (chars: RegExp): void => {
    while (i < text.length && chars.test(text[i]!)) i++;
  };

  const scheme = readToken();
  if (scheme === "") throw new Error(`WWW-Authenticate header ${JSON.stringify(header)} has no auth scheme`);
  const params: Record<string, string> = {};
  for (;;) {
    skip(/[\s,]/);
    if (i >= text.length) break;
    const key = readToken();
    skip(/\s/);
    // No "=": a token68 credential or the scheme of a second challenge; neither is a parameter of this one.
    if (key === "" || text[i] !== "=") break;
    i++; // "="
    skip(/\s/);
    let value = "";
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      i++; // closing quote
    } else {
      const start = i;
      while (i < text.length && text[i] !== "," && !/\s/.test(text[i]!)) i++;
      value = text.slice(start, i);
    }
    params[key.toLowerCase()] = value;
  }
  return { scheme: scheme.toLowerCase(), params };
}

export type RepositoryAction = "pull" | "push" | "delete";

/** `repository:acme/app:pull,push`. */
export function repositoryScope(repository: string, actions: readonly RepositoryAction[]): string {
  return `repository:${repository}:${actions.join(",")}`;
}

/**
 * Merges scope strings (`type:name:actions`) naming the same resource, keeping the first-seen order:
 * `repository:a:pull` + `repository:a:push,pull` → `repository:a:pull,push`.
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const merged = new Map<string, string[]>();
  for (const scope of scopes) {
    const last = scope.lastIndexOf(":");
    if (scope.indexOf(":") === last) {
      if (!merged.has(scope)) merged.set(scope, []);
      continue;
    }
    const resource = scope.slice(0, last);
    const actions = merged.get(resource) ?? [];
    for (const action of scope.slice(last + 1).split(",")) {
      if (action && !actions.includes(action)) actions.push(action);
    }
    merged.set(resource, actions);
  }
  return [...merged].map(([resource, actions]) =>
    actions.length > 0 ? `${resource}:${actions.join(",")}` : resource,
  );
}

function basicHeader(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username ?? ""}:${credentials.password ?? ""}`).toString("base64")}`;
}

export interface TokenRequest {
  url: URL;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

/**
 * The request for a Bearer token (distribution's token spec): GET realm?service=…&scope=… with basic
 * auth when there is a password; with an identity token, the OAuth2 refresh-token POST docker uses.
 */
export function tokenRequest(
  challenge: AuthChallenge,
  scopes: readonly string[],
  credentials: RegistryCredentials | undefined,
): TokenRequest {
  const realm = challenge.params.realm;
  if (!realm) throw new Error(`Bearer challenge has no realm: ${JSON.stringify(challenge.params)}`);
  const url = new URL(realm);
  const service = challenge.params.service;
  if (credentials?.identityToken) {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: credentials.identityToken,
    });
    if (service) form.set("service", service);
    form.set("client_id", "frostyard");
    if (scopes.length > 0) form.set("scope", scopes.join(" "));
    return {
      url,
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    };
  }
  if (service) url.searchParams.set("service", service);
  for (const scope of scopes) url.searchParams.append("scope", scope);
  const headers: Record<string, string> = {};
  if (credentials?.password !== undefined) headers.Authorization = basicHeader(credentials);
  return { url, method: "GET", headers };
}

/** How long a token is used: its `expires_in` (default 60 s, the spec's minimum) less a margin for clock and latency. */
export function tokenLifetimeMs(expiresInSeconds: unknown): number {
  const seconds = typeof expiresInSeconds === "number" && expiresInSeconds > 0 ? expiresInSeconds : 60;
  const ms = seconds * 1000;
  return Math.max(ms - 10_000, ms / 2);
}

/** The scopes a request needs and the repository it is for, so errors can say what was tried. */
export interface AuthScope {
  registry: string;
  repository: string;
  actions: readonly RepositoryAction[];
  /** Extra scopes, e.g. the source repository of a cross-repository mount. */
  extraScopes?: readonly string[];
}

function scopesOf(scope: AuthScope): string[] {
  return [repositoryScope(scope.repository, scope.actions), ...(scope.extraScopes ?? [])];
}

/** Sends one HTTP request (the client's retrying, counting transport). */
export type AuthTransport = (url: URL, init: RequestInit) => Promise<Response>;

export interface AuthenticatorOptions {
  credentials?: CredentialStore;
  transport: AuthTransport;
  /** Whether a token realm on this host may be reached over plain HTTP (loopback or configured insecure). */
  allowPlainHttp: (host: string) => boolean;
  logger?: Logger;
  now?: () => number;
}

/**
 * Answers registry auth challenges and caches what it learns: the challenge per registry (so later
 * scopes fetch a token without first taking a 401), and tokens per (registry, scopes) until they expire.
 */
export class Authenticator {
  private readonly challenges = new Map<string, AuthChallenge>();
  private readonly tokens = new Map<string, { header: string; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly options: AuthenticatorOptions;
  private readonly now: () => number;

  constructor(options: AuthenticatorOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** The Authorization header to send up front, when the registry's challenge is already known. */
  async authorization(scope: AuthScope): Promise<string | undefined> {
    const challenge = this.challenges.get(scope.registry);
    if (!challenge) return undefined;
    return this.answer(challenge, scope);
  }

  /**
   * After a 401: learns the challenge and returns the header to retry with. Throws RegistryAuthError
   * when nothing can be sent (Basic challenge and no credentials).
   */
  async unauthorized(
    scope: AuthScope,
    wwwAuthenticate: string | null,
    request: { method: string; url: string },
    /** The Authorization header the refused request carried, if any. */
    sent?: string,
  ): Promise<string> {
    if (!wwwAuthenticate) {
      throw await this.authError(
        scope,
        request,
        401,
        "the registry answered 401 without a WWW-Authenticate challenge",
      );
    }
    const challenge = parseWwwAuthenticate(wwwAuthenticate);
    // Kept for later requests minus what belongs to this one (its scope, its error), so they ask for their own.
    const { scope: _scope, error: _error, ...reusable } = challenge.params;
    this.challenges.set(scope.registry, { scheme: challenge.scheme, params: reusable });
    // Drop the token only if it is the one refused: a concurrent request may already have cached a fresh one.
    const key = this.tokenKey(scope);
    if (sent !== undefined && this.tokens.get(key)?.header === sent) this.tokens.delete(key);
    const header = await this.answer(challenge, scope, request);
    if (!header) throw await this.authError(scope, request, 401);
    return header;
  }

  /** The error for a request still refused after authenticating (401) or forbidden (403). */
  async authError(
    scope: AuthScope,
    request: { method: string; url: string },
    status: number,
    detail?: string,
  ): Promise<RegistryAuthError | RegistryDeniedError> {
    const found = await this.lookup(scope);
    const name = `${scope.registry}/${scope.repository}`;
    const what = scope.actions.join(" and ");
    const suffix = detail ? ` (${detail})` : "";
    if (status === 403) {
      return new RegistryDeniedError({
        status,
        method: request.method,
        url: request.url,
        message: `access denied: ${name} refused to let ${found ? `the credentials from ${found.source}` : "an anonymous client"} ${what}${suffix}`,
      });
    }
    const message = found
      ? `${scope.registry} rejected the credentials from ${found.source} for ${name}: check the user and password or token, and that they may ${what} ${scope.repository}${suffix}`
      : `authentication required for ${name}; log in with \`podman login ${scope.registry}\` (or docker login), or set REGISTRY_AUTH_FILE to an auth file with credentials for ${scope.registry}${suffix}`;
    return new RegistryAuthError({ status, method: request.method, url: request.url, message });
  }

  private lookup(scope: AuthScope): Promise<FoundCredentials | undefined> {
    return this.options.credentials?.get(scope.registry, scope.repository) ?? Promise.resolve(undefined);
  }

  private tokenKey(scope: AuthScope): string {
    return `${scope.registry} ${[...scopesOf(scope)].sort().join(" ")}`;
  }

  private async answer(
    challenge: AuthChallenge,
    scope: AuthScope,
    request: { method: string; url: string } = { method: "GET", url: `${scope.registry}/v2/` },
  ): Promise<string | undefined> {
    const found = await this.lookup(scope);
    if (challenge.scheme === "basic") {
      return found?.credentials.password !== undefined ? basicHeader(found.credentials) : undefined;
    }
    if (challenge.scheme !== "bearer") {
      throw await this.authError(
        scope,
        request,
        401,
        `unsupported auth scheme "${challenge.scheme}"; Bearer and Basic are supported`,
      );
    }
    const key = this.tokenKey(scope);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.header;
    // Concurrent requests for one scope (pin-digest resolves many refs at once) share one token request.
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.fetchToken(challenge, scope, found, request).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  private async fetchToken(
    challenge: AuthChallenge,
    scope: AuthScope,
    found: FoundCredentials | undefined,
    request: { method: string; url: string },
  ): Promise<string> {
    // The challenge may name scopes the registry wants (in any action order); ask for those too.
    const scopes = mergeScopes([...scopesOf(scope), ...(challenge.params.scope?.split(" ") ?? [])]);
    const spec = tokenRequest(challenge, scopes, found?.credentials);
    const sendsSecret = found !== undefined;
    const plainHttpOk = spec.url.protocol === "http:" && this.options.allowPlainHttp(spec.url.host);
    if (sendsSecret && spec.url.protocol !== "https:" && !plainHttpOk) {
      throw await this.authError(
        scope,
        request,
        401,
        `the token realm ${spec.url.origin} is not HTTPS; credentials are only sent over plain HTTP to loopback or insecure-registries hosts`,
      );
    }
    this.options.logger?.debug(
      `requesting a token for ${scopes.join(" ")} from ${spec.url.origin}${spec.url.pathname} ${found ? `with credentials from ${found.source}` : "anonymously"}`,
    );
    const init: RequestInit = { method: spec.method, headers: spec.headers };
    if (spec.body !== undefined) init.body = spec.body;
    const response = await this.options.transport(spec.url, init);
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw await this.authError(
        scope,
        { method: spec.method, url: `${spec.url.origin}${spec.url.pathname}` },
        response.status,
        `token endpoint answered ${response.status}`,
      );
    }
    if (!response.ok) {
      // An HttpStatusError, so the client's retry treats a 5xx/429 from the token service like any other.
      throw new HttpStatusError({
        status: response.status,
        method: spec.method,
        url: `${spec.url.origin}${spec.url.pathname}`,
        body: text,
        retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
      });
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(
        `token endpoint ${spec.url.origin}${spec.url.pathname} answered with something that is not JSON`,
      );
    }
    const token = typeof body.token === "string" && body.token ? body.token : body.access_token;
    if (typeof token !== "string" || token === "") {
      throw new Error(`token endpoint ${spec.url.origin}${spec.url.pathname} answered without a token`);
    }
    this.options.logger?.setSecret(token);
    const header = `Bearer ${token}`;
    this.tokens.set(this.tokenKey(scope), {
      header,
      expiresAt: this.now() + tokenLifetimeMs(body.expires_in),
    });
    return header;
  }
}
