import { createHmac } from "node:crypto";

/**
 * Shared access signatures for Azure blob storage, as GitHub's results service hands them out: the
 * client gets a URL that allows one operation on one blob and never sees the account key. The strings
 * to sign follow Azure's "service SAS" and "account SAS" formats for version 2020-12-06 and later.
 */
export const SAS_VERSION = "2022-11-02";

export interface StorageAccount {
  /** e.g. http://127.0.0.1:10000 (path-style: the account is the first path segment). */
  endpoint: string;
  name: string;
  /** The account key, base64 as Azure prints it. */
  key: string;
}

/** Azure's time format in SAS fields: ISO 8601 without milliseconds. */
export function sasTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** `+` would mean a space to some parsers and not to others: every value percent-encoded instead. */
function queryString(fields: [string, string][]): string {
  return fields.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join("&");
}

function sign(stringToSign: string, key: string): string {
  return createHmac("sha256", Buffer.from(key, "base64")).update(stringToSign, "utf8").digest("base64");
}

export interface BlobSasOptions {
  container: string;
  blob: string;
  /** Canonical order, e.g. "r", "cw", "racwd". */
  permissions: string;
  expiresOn: Date;
  startsOn?: Date;
  /** Served as the download's Content-Disposition (rscd). */
  contentDisposition?: string;
}

/** The string a blob service SAS signs (sr=b). */
export function blobSasStringToSign(account: StorageAccount, options: BlobSasOptions): string {
  return [
    options.permissions,
    options.startsOn ? sasTime(options.startsOn) : "",
    sasTime(options.expiresOn),
    `/blob/${account.name}/${options.container}/${options.blob}`,
    "", // signed identifier
    "", // IP range
    "", // protocol
    SAS_VERSION,
    "b",
    "", // snapshot time
    "", // encryption scope
    "", // rscc
    options.contentDisposition ?? "",
    "", // rsce
    "", // rscl
    "", // rsct
  ].join("\n");
}

/** The signed URL of one blob: what CreateCacheEntry, CreateArtifact etc. answer with. */
export function signedBlobUrl(account: StorageAccount, options: BlobSasOptions): string {
  const fields: [string, string][] = [["sv", SAS_VERSION]];
  if (options.startsOn) fields.push(["st", sasTime(options.startsOn)]);
  fields.push(["se", sasTime(options.expiresOn)], ["sr", "b"], ["sp", options.permissions]);
  if (options.contentDisposition) fields.push(["rscd", options.contentDisposition]);
  fields.push(["sig", sign(blobSasStringToSign(account, options), account.key)]);
  const path = options.blob.split("/").map(encodeURIComponent).join("/");
  return `${account.endpoint}/${account.name}/${options.container}/${path}?${queryString(fields)}`;
}

/** The string an account SAS signs (blob service, every resource type). */
export function accountSasStringToSign(
  account: StorageAccount,
  options: { permissions: string; expiresOn: Date },
): string {
  return [
    account.name,
    options.permissions,
    "b",
    "sco",
    "", // start
    sasTime(options.expiresOn),
    "", // IP range
    "", // protocol
    SAS_VERSION,
    "", // encryption scope
    "",
  ].join("\n");
}

/** An account SAS query string for the service's own housekeeping (create the container, read, delete). */
export function accountSasQuery(
  account: StorageAccount,
  options: { permissions: string; expiresOn: Date },
): string {
  return queryString([
    ["sv", SAS_VERSION],
    ["ss", "b"],
    ["srt", "sco"],
    ["sp", options.permissions],
    ["se", sasTime(options.expiresOn)],
    ["sig", sign(accountSasStringToSign(account, options), account.key)],
  ]);
}
