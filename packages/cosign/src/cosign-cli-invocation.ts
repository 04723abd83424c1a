/**
 * How the cosign CLI is invoked for `engine: cosign`: which pinned release, with which argv, environment
 * and registry auth file. Pure: installing and running it is the cosign-sign entry's engine.
 */
import type { ToolDownload } from "@frostyard/kit";

/**
 * Pinned cosign releases for `engine: cosign`: the raw binaries and their sha256 from the release's
 * `cosign_checksums.txt`. v2 only: v3's defaults write a format bootc/rpm-ostree hosts cannot verify, and
 * no v3 checksum has been verified for this table yet.
 */
export const COSIGN_DOWNLOADS: readonly ToolDownload[] = [
  {
    tool: "cosign",
    version: "2.6.4",
    platform: "linux",
    arch: "x64",
    url: "https://github.com/sigstore/cosign/releases/download/v2.6.4/cosign-linux-amd64",
    sha256: "309779b0c4e409186b0a80daba99041fe2cf65a920ce645013901df6211895a9",
    archive: "none",
    binaries: ["cosign"],
  },
  {
    tool: "cosign",
    version: "2.6.4",
    platform: "linux",
    arch: "arm64",
    url: "https://github.com/sigstore/cosign/releases/download/v2.6.4/cosign-linux-arm64",
    sha256: "df408e5418129306fed7349ec46e27be0445d05c5127c07f435e9a566af67593",
    archive: "none",
    binaries: ["cosign"],
  },
];

/** The variable cosign reads the key from (`--key env://…`) and the one it reads the password from. */
export const COSIGN_KEY_ENV = "COSIGN_PRIVATE_KEY";
export const COSIGN_PASSWORD_ENV = "COSIGN_PASSWORD";

/** The major version of a `vX.Y.Z` / `X.Y.Z` cosign version. */
export function cosignMajor(version: string): number {
  const match = /^v?(\d+)\.\d+\.\d+$/.exec(version.trim());
  if (!match) throw new TypeError(`cosign version '${version}' is not X.Y.Z`);
  return Number(match[1]);
}

export interface CosignSignArgs {
  version: string;
  /** `registry/repo@sha256:…`: cosign signs what it is given, so it is always given a digest. */
  reference: string;
  format: "legacy" | "bundle";
  keyless: boolean;
  recursive: boolean;
  annotations: Record<string, string>;
  /** Only when not the public-good instance (cosign's own defaults). */
  fulcioUrl?: string;
  rekorUrl?: string;
  /** Plain-HTTP or self-signed registry. */
  insecureRegistry: boolean;
}

/**
 * The argv of `cosign sign` for one digest. The key is named as `env://COSIGN_PRIVATE_KEY` and the password
 * read from COSIGN_PASSWORD: neither ever appears here. Each major version gets the flags that give the
 * requested format: v3 writes bundles by default and needs `--new-bundle-format=false
 * --use-signing-config=false` for the legacy `.sig` format; v2 writes legacy by default and needs
 * `--new-bundle-format` for bundles.
 */
export function cosignSignArgs(request: CosignSignArgs): string[] {
  const major = cosignMajor(request.version);
  const args = ["sign", "--yes"];
  if (!request.keyless) args.push("--key", `env://${COSIGN_KEY_ENV}`);
  if (request.recursive) args.push("--recursive");
  for (const key of Object.keys(request.annotations).sort())
    args.push("-a", `${key}=${request.annotations[key]}`);
  if (request.format === "legacy" && major >= 3) {
    args.push("--new-bundle-format=false", "--use-signing-config=false");
  } else if (request.format === "bundle" && major < 3) {
    args.push("--new-bundle-format=true");
  }
  if (request.fulcioUrl) args.push("--fulcio-url", request.fulcioUrl);
  if (request.rekorUrl) args.push("--rekor-url", request.rekorUrl);
  if (request.insecureRegistry) args.push("--allow-insecure-registry", "--allow-http-registry");
  args.push(request.reference);
  return args;
}

export interface CosignEnvRequest {
  /** PATH and HOME for the child; nothing else of the runner's environment is passed. */
  path: string;
  home: string;
  /** Key-based: the encrypted PEM and its password. */
  key?: { pem: string; password: string };
  /** Keyless on Actions: cosign's GitHub provider fetches the OIDC token itself. */
  actionsIdToken?: { url: string; token: string };
  /** A directory holding config.json with the registry credentials (docker's format). */
  dockerConfig?: string;
}

/** The complete environment of the cosign child: secrets travel here, never on argv. */
export function cosignEnv(request: CosignEnvRequest): Record<string, string> {
  const env: Record<string, string> = { PATH: request.path, HOME: request.home };
  if (request.dockerConfig) env.DOCKER_CONFIG = request.dockerConfig;
  if (request.key) {
    env[COSIGN_KEY_ENV] = request.key.pem;
    env[COSIGN_PASSWORD_ENV] = request.key.password;
  }
  if (request.actionsIdToken) {
    env.ACTIONS_ID_TOKEN_REQUEST_URL = request.actionsIdToken.url;
    env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = request.actionsIdToken.token;
  }
  return env;
}

/** docker's config.json with one registry's credentials: what cosign (go-containerregistry) reads from DOCKER_CONFIG. */
export function dockerConfigJson(registry: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  return `${JSON.stringify({ auths: { [registry]: { auth } } }, null, 2)}\n`;
}
