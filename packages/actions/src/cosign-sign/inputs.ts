import {
  getBoolean,
  getEnum,
  getKeyValues,
  getList,
  getOptionalString,
  InputError,
  type InputGetter,
} from "@frostyard/kit";
import { checkPromoteTags, parseImageInput } from "@frostyard/cosign";
import { parseRegistryLogin, type RegistryLogin } from "../registry-login";
import { parseAttestPairs, type AttestPair } from "./attest";

export const FORMATS = ["legacy", "bundle", "both"] as const;
export const ENGINES = ["native", "cosign"] as const;
/** The sigstore public-good instance, which `cosign sign` uses by default. */
export const PUBLIC_GOOD = {
  fulcioUrl: "https://fulcio.sigstore.dev",
  rekorUrl: "https://rekor.sigstore.dev",
  oidcIssuer: "https://token.actions.githubusercontent.com",
} as const;
/** cosign v2: v3's defaults write the bundle format bootc/rpm-ostree hosts cannot verify. */
export const DEFAULT_COSIGN_VERSION = "v2.6.4";

/** Every input of actions/cosign-sign, parsed once. Secrets are kept here and masked by main before any log. */
export interface CosignSignInputs extends RegistryLogin {
  images: string[];
  key?: string;
  password: string;
  format: (typeof FORMATS)[number];
  recursive: boolean;
  annotations: Record<string, string>;
  promoteTags: string[];
  insecureRegistries: string[];
  engine: (typeof ENGINES)[number];
  cosignVersion: string;
  fulcioUrl: string;
  rekorUrl: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer: string;
  /** Path of a sigstore trusted_root.json; undefined: the public-good root through TUF. */
  trustedRoot?: string;
  /** `attest` pairs; absent when none are given. */
  attest?: AttestPair[];
}

function httpsUrl(get: InputGetter, name: string, fallback: string): string {
  const value = getOptionalString(get, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(
      name,
      `'${value}' is not a URL`,
      "an http(s) URL such as https://fulcio.sigstore.dev",
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new InputError(name, `'${value}' uses ${url.protocol}`, "an http(s) URL");
  }
  return value.replace(/\/+$/, "");
}

export function parseInputs(get: InputGetter): CosignSignInputs {
  const images = getList(get, "image");
  if (images.length === 0) {
    throw new InputError(
      "image",
      "is required but was empty",
      "one or more image references, newline or comma separated",
    );
  }
  images.forEach((image, i) =>
    parseImageInput(image, images.length > 1 ? `image (entry ${i + 1})` : "image"),
  );

  const login = parseRegistryLogin(get);

  const key = getOptionalString(get, "key");
  const certificateIdentity = getOptionalString(get, "certificate-identity");
  const certificateIdentityRegexp = getOptionalString(get, "certificate-identity-regexp");
  if (certificateIdentity !== undefined && certificateIdentityRegexp !== undefined) {
    throw new InputError(
      "certificate-identity-regexp",
      "is set together with certificate-identity",
      "one of certificate-identity or certificate-identity-regexp",
    );
  }
  if (certificateIdentityRegexp !== undefined) {
    try {
      new RegExp(certificateIdentityRegexp);
    } catch (error) {
      throw new InputError(
        "certificate-identity-regexp",
        (error as Error).message,
        "a JavaScript/RE2-compatible regular expression",
      );
    }
  }
  const cosignVersion = getOptionalString(get, "cosign-version") ?? DEFAULT_COSIGN_VERSION;
  if (!/^v\d+\.\d+\.\d+$/.test(cosignVersion)) {
    throw new InputError(
      "cosign-version",
      `got '${cosignVersion}'`,
      "an exact release such as v2.6.1 (never latest)",
    );
  }
  const annotations = Object.fromEntries(getKeyValues(get, "annotations"));
  const trustedRoot = getOptionalString(get, "trusted-root");
  const attest = parseAttestPairs(getList(get, "attest"));
  const engine = getEnum(get, "engine", ENGINES, "native");
  if (attest.length > 0 && key === undefined && engine === "cosign") {
    throw new InputError(
      "attest",
      "is set with keyless signing and engine cosign; attestations are signed in-process, with the signer the native engine uses",
      "engine native for keyless attestations, or a key",
    );
  }

  return {
    images,
    ...(key !== undefined ? { key } : {}),
    // Not trimmed: a password may end in a space.
    password: get("password"),
    format: getEnum(get, "format", FORMATS, "legacy"),
    recursive: getBoolean(get, "recursive", false),
    annotations,
    promoteTags: checkPromoteTags(getList(get, "promote-tags")),
    ...login,
    insecureRegistries: getList(get, "insecure-registries"),
    engine,
    cosignVersion,
    fulcioUrl: httpsUrl(get, "fulcio-url", PUBLIC_GOOD.fulcioUrl),
    rekorUrl: httpsUrl(get, "rekor-url", PUBLIC_GOOD.rekorUrl),
    ...(certificateIdentity !== undefined ? { certificateIdentity } : {}),
    ...(certificateIdentityRegexp !== undefined ? { certificateIdentityRegexp } : {}),
    certificateOidcIssuer: getOptionalString(get, "certificate-oidc-issuer") ?? PUBLIC_GOOD.oidcIssuer,
    ...(trustedRoot !== undefined ? { trustedRoot } : {}),
    ...(attest.length > 0 ? { attest } : {}),
  };
}
