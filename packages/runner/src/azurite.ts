import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { accountSasQuery, signedBlobUrl, type BlobSasOptions, type StorageAccount } from "./azure-sas";
import { findNode } from "./node-binary";
import { findRepoRoot } from "./repo-root";

/**
 * Azure blob storage on 127.0.0.1: azurite (Microsoft's own Azure Storage server, the `azurite`
 * devDependency), the store behind the signed URLs @actions/cache and @actions/artifact upload to.
 * It is spawned from the checkout's node_modules, never bundled: it is a server of its own with a
 * dependency tree of ~200 MB that only local runs with --hosted-services and the tests need.
 */
export interface BlobStorage {
  account: StorageAccount;
  container: string;
  pid: number;
  /** A URL allowing `permissions` on one blob for an hour. */
  signedUrl(blob: string, permissions: string, extra?: Pick<BlobSasOptions, "contentDisposition">): string;
  /** The blob's size, or undefined when it does not exist. */
  size(blob: string): Promise<number | undefined>;
  remove(blob: string): Promise<void>;
  stop(): Promise<void>;
}

export function azuriteEntry(repoRoot: string | undefined = findRepoRoot()): string {
  const entry = repoRoot && join(repoRoot, "node_modules", "azurite", "dist", "src", "blob", "main.js");
  if (!entry || !existsSync(entry)) {
    throw new Error(
      `azurite (Azure blob storage for the hosted cache and artifact services) is not installed${
        repoRoot ? ` in ${join(repoRoot, "node_modules")}` : " (no frostyard-build checkout found)"
      }; it is a devDependency: run \`npm ci\` in the repository`,
    );
  }
  return entry;
}

const HOUR_MS = 3600_000;

function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error("did not start listening within 30 s")), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`azurite: ${error.message}\n${output}`));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /successfully listens on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve((match[1] ?? "").replace(/\/$/, ""));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.on("error", fail);
    child.on("exit", (code, signal) => fail(new Error(`exited (${signal ?? code}) before listening`)));
  });
}

/** Starts azurite's blob service on a free loopback port with its data in `location`, and makes the container. */
export async function startBlobStorage(
  location: string,
  container = "actions-results",
): Promise<BlobStorage> {
  const entry = azuriteEntry();
  // A fresh account key per start, given through the environment (never argv): only this process's
  // signed URLs are accepted.
  const name = "frostyard";
  const key = randomBytes(64).toString("base64");
  const child = spawn(
    findNode(findRepoRoot()),
    [
      entry,
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      "0",
      "--location",
      location,
      "--skipApiVersionCheck",
      "--disableTelemetry",
      "--silent",
    ],
    {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", AZURITE_ACCOUNTS: `${name}:${key}` },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const endpoint = await waitForListening(child);
  child.removeAllListeners("exit");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const account: StorageAccount = { endpoint, name, key };
  const admin = () =>
    accountSasQuery(account, { permissions: "rwdlac", expiresOn: new Date(Date.now() + HOUR_MS) });
  const blobUrl = (blob: string) => `${endpoint}/${name}/${container}/${blob}`;
  const headers = { "x-ms-version": "2022-11-02" };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    }
  };
  try {
    const created = await fetch(`${endpoint}/${name}/${container}?restype=container&${admin()}`, {
      method: "PUT",
      headers,
    });
    // 409: the container is there from an earlier run on the same location.
    if (!created.ok && created.status !== 409) {
      throw new Error(
        `azurite: creating container ${container} answered ${created.status}: ${await created.text()}`,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    account,
    container,
    pid: child.pid ?? 0,
    signedUrl: (blob, permissions, extra = {}) =>
      signedBlobUrl(account, {
        container,
        blob,
        permissions,
        expiresOn: new Date(Date.now() + HOUR_MS),
        ...extra,
      }),
    size: async (blob) => {
      const response = await fetch(`${blobUrl(blob)}?${admin()}`, { method: "HEAD", headers });
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`azurite: HEAD ${blob} answered ${response.status}`);
      return Number(response.headers.get("content-length"));
    },
    remove: async (blob) => {
      const response = await fetch(`${blobUrl(blob)}?${admin()}`, { method: "DELETE", headers });
      if (!response.ok && response.status !== 404) {
        throw new Error(`azurite: DELETE ${blob} answered ${response.status}`);
      }
    },
    stop,
  };
}
