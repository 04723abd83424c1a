import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createPrivateKey, randomUUID, sign, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real registry (distribution 2.8, /usr/bin/docker-registry) on a loopback port, for tests.
 * Each call gets its own storage directory and port; `stop()` kills the process it started (by its PID)
 * and removes the directory.
 */
export interface TestRegistry {
  /** `127.0.0.1:PORT`, the registry part of an image reference. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The credentials it requires, when started with `htpasswd`. */
  credentials?: { user: string; password: string };
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** Require HTTP basic auth with these credentials (distribution's htpasswd auth answers `Basic` challenges). */
  htpasswd?: { user: string; password: string };
  /** Require Bearer tokens from this token server (distribution's token auth: JWTs checked against its cert). */
  token?: TokenServer;
  /** The registry binary; defaults to /usr/bin/docker-registry. */
  binary?: string;
}

export const REGISTRY_BINARY = "/usr/bin/docker-registry";

/** A free TCP port on 127.0.0.1 (the OS picks it; there is a small window before the registry binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The registry's config.yml: filesystem storage, deletes allowed, optional htpasswd auth. */
export function registryConfig(options: {
  rootDirectory: string;
  addr: string;
  htpasswdPath?: string;
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  secret: string;
}): string {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${options.rootDirectory}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${options.addr}`,
    `  secret: ${options.secret}`,
  ];
  if (options.htpasswdPath) {
    lines.push("auth:", "  htpasswd:", "    realm: frostyard-test", `    path: ${options.htpasswdPath}`);
  } else if (options.token) {
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${options.token.realm}`,
      `    service: ${options.token.service}`,
      `    issuer: ${options.token.issuer}`,
      `    rootcertbundle: ${options.token.rootCertBundle}`,
    );
  }
  return lines.join("\n") + "\n";
}

function htpasswdLine(user: string, password: string): string {
  // -B bcrypt (the only hash distribution accepts), -b password from argv: a throwaway test password only.
  const result = spawnSync("htpasswd", ["-Bbn", user, password], { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(
      `htpasswd -Bbn failed (exit ${result.status}): ${result.stderr || result.error?.message}`,
    );
  }
  return result.stdout.trim() + "\n";
}

async function waitForRegistry(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let lastError = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`docker-registry exited with ${child.exitCode} before answering: ${stderr()}`);
    }
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      // 200 when open, 401 when htpasswd is on: both mean it is serving.
      if (response.status === 200 || response.status === 401) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`docker-registry at ${url} did not answer /v2/ within 15 s (${lastError}): ${stderr()}`);
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "frostyard-registry-"));
  let htpasswdPath: string | undefined;
  if (options.htpasswd) {
    htpasswdPath = join(dir, "htpasswd");
    await writeFile(htpasswdPath, htpasswdLine(options.htpasswd.user, options.htpasswd.password), {
      mode: 0o600,
    });
  }
  // The port is picked then bound by the registry; retry once if another process grabbed it in between.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const url = `http://${host}`;
    const configPath = join(dir, "config.yml");
    await writeFile(
      configPath,
      registryConfig({
        rootDirectory: join(dir, "storage"),
        addr: host,
        htpasswdPath,
        ...(options.token
          ? {
              token: {
                realm: options.token.realm,
                service: options.token.service,
                issuer: options.token.issuer,
                rootCertBundle: options.token.certPath,
              },
            }
          : {}),
        secret: `test-secret-${port}-${process.pid}`,
      }),
    );
    const child = spawn(options.binary ?? REGISTRY_BINARY, ["serve", configPath], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderrText = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderrText = (stderrText + chunk.toString()).slice(-4_000);
    });
    // A test that throws before afterAll, or a worker that exits, must not leave the registry running.
    const killOnExit = () => child.exitCode === null && child.kill("SIGKILL");
    process.once("exit", killOnExit);
    const exited = new Promise<void>((resolve) =>
      child.once("exit", () => {
        process.off("exit", killOnExit);
        resolve();
      }),
    );
    try {
      await waitForRegistry(url, child, () => stderrText);
    } catch (error) {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
      if (attempt < 3 && /address already in use/.test(stderrText)) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      host,
      url,
      ...(options.htpasswd ? { credentials: { ...options.htpasswd } } : {}),
      stop: async () => {
        if (child.exitCode === null && child.pid !== undefined) {
          process.kill(child.pid, "SIGTERM");
          const timer = setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 3_000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** One request the token server answered, for tests that count token fetches or check scopes. */
export interface TokenServerRequest {
  method: string;
  user?: string;
  scopes: string[];
  status: number;
}

export interface TokenServer {
  /** The realm URL registries send clients to. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate whose key signs the tokens (the registry's rootcertbundle). */
  certPath: string;
  requests: TokenServerRequest[];
  stop(): Promise<void>;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/**
 * A minimal Docker token service on 127.0.0.1: checks basic credentials against `users`, grants
 * authenticated users every action they ask for (anonymous clients get `pull` on repositories under
 * `public/` only), and signs RS256 JWTs with an x5c header that distribution verifies against `certPath`.
 * It stands in for the hosted token services (ghcr.io, Docker Hub), which cannot be reached here.
 */
export async function startTokenServer(
  options: {
    /** user → password, for basic auth at the token endpoint. */
    users?: Record<string, string>;
    /** identity (refresh) token → user, for the OAuth2 POST docker uses with an `identitytoken`. */
    identityTokens?: Record<string, string>;
    expiresIn?: number;
  } = {},
): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), "frostyard-token-"));
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  const made = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "1",
      "-subj",
      "/CN=frostyard-test-token",
    ],
    { encoding: "utf8" },
  );
  if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
  const key = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw.toString("base64");
  const issuer = "frostyard-test-issuer";
  const service = "frostyard-test-registry";
  const requests: TokenServerRequest[] = [];

  const server = createHttpServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    let body = "";
    for await (const chunk of request) body += String(chunk);
    // GET carries scopes in the query; the OAuth2 POST (refresh-token grant) in a form body.
    const form = new URLSearchParams(request.method === "POST" ? body : "");
    const scopes = [...url.searchParams.getAll("scope"), ...form.getAll("scope")]
      .flatMap((s) => s.split(" "))
      .filter(Boolean);
    let user: string | undefined;
    const authorization = request.headers.authorization ?? "";
    if (request.method === "POST") {
      const owner = options.identityTokens?.[form.get("refresh_token") ?? ""];
      if (form.get("grant_type") !== "refresh_token" || !owner) {
        requests.push({ method: "POST", scopes, status: 401 });
        response.writeHead(401, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ details: "invalid refresh token" }));
        return;
      }
      user = owner;
    } else if (authorization.startsWith("Basic ")) {
      const decoded = Buffer.from(authorization.slice(6), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      const name = decoded.slice(0, colon);
      if (colon < 0 || options.users?.[name] !== decoded.slice(colon + 1)) {
        requests.push({ method: request.method ?? "GET", user: name, scopes, status: 401 });
        response.writeHead(401, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ details: "invalid username or password" }));
        return;
      }
      user = name;
    }
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(":");
      if (type !== "repository" || !name || !actions) return [];
      const granted = user
        ? actions.split(",")
        : name.startsWith("public/")
          ? actions.split(",").filter((a) => a === "pull")
          : [];
      return granted.length > 0 ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = options.expiresIn ?? 300;
    const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", x5c: [certDer] }));
    const payload = base64url(
      JSON.stringify({
        iss: issuer,
        sub: user ?? "",
        aud: service,
        exp: now + expiresIn,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access,
      }),
    );
    const signature = base64url(sign("sha256", Buffer.from(`${header}.${payload}`), key));
    requests.push({ method: request.method ?? "GET", ...(user ? { user } : {}), scopes, status: 200 });
    response.writeHead(200, { "Content-Type": "application/json" });
    const token = `${header}.${payload}.${signature}`;
    response.end(
      JSON.stringify(
        request.method === "POST"
          ? { access_token: token, expires_in: expiresIn }
          : { token, expires_in: expiresIn },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
