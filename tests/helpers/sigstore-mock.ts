import { createHash, createHmac, generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, rekorHandler } from "@sigstore/mock";

/**
 * Fulcio, Rekor and a CT log from @sigstore/mock (real certificate issuance, real SCTs, real signed entry
 * timestamps) served over HTTP on 127.0.0.1, plus a stand-in for the Actions OIDC token endpoint that the
 * runner exposes as ACTIONS_ID_TOKEN_REQUEST_URL. The public sigstore instance cannot be had here (no internet);
 * this is the same code sigstore-js tests itself against.
 */
export interface SigstoreMock {
  url: string;
  fulcioUrl: string;
  rekorUrl: string;
  /** What the runner sets under `permissions: id-token: write`. */
  tokenEnv: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** The trust root (Fulcio CA, Rekor key, CT log key) as sigstore's `trusted_root.json`. */
  trustedRoot: Record<string, unknown>;
  /** The claims the OIDC endpoint puts in its tokens; the certificate identity is `sub`. */
  claims: Record<string, unknown>;
  /** Each token request: audience and whether the bearer was right. */
  tokenRequests: { audience: string | null; authorized: boolean }[];
  /** Each POST to Fulcio or Rekor, by path. */
  posts: string[];
  stop(): Promise<void>;
}

export const ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

function jwt(claims: Record<string, unknown>): string {
  const enc = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${enc({ alg: "HS256", typ: "JWT" })}.${enc(claims)}`;
  const signature = createHmac("sha256", randomBytes(32)).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startSigstoreMock(
  options: { workflowRef?: string; issuer?: string } = {},
): Promise<SigstoreMock> {
  const workflowRef = options.workflowRef ?? "acme/os/.github/workflows/build.yml@refs/heads/main";
  const issuer = options.issuer ?? ACTIONS_ISSUER;
  const bearer = `runtime-${randomBytes(8).toString("hex")}`;
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: issuer,
    // @sigstore/mock's Fulcio puts `sub` in the SAN; real Fulcio derives the same URI from job_workflow_ref.
    sub: `https://github.com/${workflowRef}`,
    aud: "sigstore",
    job_workflow_ref: workflowRef,
    repository: "acme/os",
    ref: "refs/heads/main",
    sha: "0".repeat(40),
    iat: now,
    exp: now + 600,
  };
  const caKeys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const rekorKeys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const ctlog = await initializeCTLog(caKeys);
  const ca = await initializeCA(caKeys, ctlog);

  const tokenRequests: SigstoreMock["tokenRequests"] = [];
  const posts: string[] = [];
  let routes: Record<
    string,
    (body: string) => Promise<{ statusCode: number; response: unknown; contentType?: string }>
  > = {};

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (req.method === "GET" && url.pathname === "/oidc/token") {
        const authorized = req.headers.authorization === `Bearer ${bearer}`;
        tokenRequests.push({ audience: url.searchParams.get("audience"), authorized });
        res.writeHead(authorized ? 200 : 401, { "Content-Type": "application/json" });
        res.end(
          authorized
            ? JSON.stringify({ value: jwt({ ...claims, aud: url.searchParams.get("audience") }) })
            : "{}",
        );
        return;
      }
      const route = req.method === "POST" ? routes[url.pathname] : undefined;
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      posts.push(url.pathname);
      const result = await route(await readBody(req));
      res.writeHead(result.statusCode, { "Content-Type": result.contentType ?? "application/json" });
      const body = result.response;
      res.end(typeof body === "string" ? body : Buffer.from((body as ArrayBufferView).buffer as ArrayBuffer));
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const tlog = await initializeTLog(base, rekorKeys);
  const fulcio = fulcioHandler(ca);
  const rekor = rekorHandler(tlog);
  routes = { [fulcio.path]: fulcio.fn, [rekor.path]: rekor.fn };

  const start = new Date(Date.now() - 60_000).toISOString();
  const keyId = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("base64");
  const trustedRoot = {
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [
      {
        baseUrl: base,
        hashAlgorithm: "SHA2_256",
        publicKey: {
          rawBytes: tlog.publicKey.toString("base64"),
          keyDetails: "PKIX_ECDSA_P256_SHA_256",
          validFor: { start },
        },
        logId: { keyId: keyId(tlog.publicKey) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: "sigstore.mock", commonName: "sigstore" },
        uri: base,
        certChain: {
          certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer).toString("base64") }],
        },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: base,
        hashAlgorithm: "SHA2_256",
        publicKey: {
          rawBytes: ctlog.publicKey.toString("base64"),
          keyDetails: "PKIX_ECDSA_P256_SHA_256",
          validFor: { start },
        },
        logId: { keyId: Buffer.from(ctlog.logID.buffer).toString("base64") },
      },
    ],
    timestampAuthorities: [],
  };
  return {
    url: base,
    fulcioUrl: base,
    rekorUrl: base,
    tokenEnv: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/oidc/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: bearer,
    },
    trustedRoot,
    claims,
    tokenRequests,
    posts,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
