import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hostedServicesUnavailable } from "../helpers/hosted-services";
import { ensureBuilt } from "../helpers/run-action";

/**
 * `frostyard-build run … --hosted-services[=DIR]` (the bundled CLI) serves GitHub's results service and
 * blob storage for one run, as tests/helpers/hosted-services.ts does for the other hosted-* tests (GitHub's
 * own cannot be reached from our machines). The probe action speaks the cache service's Twirp RPCs and
 * PUTs/GETs the blob itself, so what is checked here is the CLI's part: the environment it hands over, the
 * storage kept in DIR between runs, and azurite stopped when the run ends.
 */

const PROBE = `
const rpc = async (method, body) => {
  const response = await fetch(new URL("/twirp/github.actions.results.api.v1.CacheService/" + method, process.env.ACTIONS_RESULTS_URL), {
    method: "POST",
    headers: { authorization: "Bearer " + process.env.ACTIONS_RUNTIME_TOKEN, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.json();
};
console.log("cache service v2: " + process.env.ACTIONS_CACHE_SERVICE_V2);
const found = await rpc("GetCacheEntryDownloadURL", { key: "probe", version: "1" });
if (found.ok) {
  console.log("restored: " + (await (await fetch(found.signed_download_url)).text()));
} else {
  const created = await rpc("CreateCacheEntry", { key: "probe", version: "1" });
  const put = await fetch(created.signed_upload_url, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" }, body: process.env.INPUT_TEXT });
  const finalized = await rpc("FinalizeCacheEntryUpload", { key: "probe", version: "1", size_bytes: "0" });
  console.log("saved: " + put.status + " " + finalized.ok);
}
`;

describe.skipIf(hostedServicesUnavailable())("frostyard-build run --hosted-services", () => {
  let scratch: string;
  let cli: string;

  beforeAll(async () => {
    cli = ensureBuilt("cli");
    scratch = await mkdtemp(join(tmpdir(), "frostyard-hosted-cli-"));
    await writeFile(
      join(scratch, "action.yml"),
      "name: probe\ndescription: probe\ninputs:\n  text:\n    description: t\nruns:\n  using: node24\n  main: main.mjs\n",
    );
    await writeFile(join(scratch, "main.mjs"), PROBE);
  });

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const cliRun = (...args: string[]) =>
    spawnSync(process.execPath, [cli, "run", scratch, "--input", "text=bytes of the first run", ...args], {
      encoding: "utf8",
      timeout: 60_000,
    });
  const azuritePid = (stderr: string) => Number(/\(azurite, pid (\d+)\)/.exec(stderr)?.[1]);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  test("with =DIR the second run restores what the first saved; azurite is stopped after each", () => {
    const dir = join(scratch, "state");
    const first = cliRun(`--hosted-services=${dir}`);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("cache service v2: True");
    expect(first.stdout).toContain("saved: 201 true");
    expect(first.stderr).toMatch(
      /hosted services: results http:\/\/127\.0\.0\.1:\d+\/, blob storage http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(first.stderr).toContain("hosted services hold: \n  cache probe (22 bytes)");
    expect(alive(azuritePid(first.stderr))).toBe(false);
    expect(existsSync(join(dir, "results-store.json"))).toBe(true);

    const second = cliRun(`--hosted-services=${dir}`, "--input", "text=ignored");
    expect(second.status).toBe(0);
    expect(second.stdout).toContain("restored: bytes of the first run");
    expect(alive(azuritePid(second.stderr))).toBe(false);
  });

  test("without a directory the storage is a temporary one, removed after the run", () => {
    const run = cliRun("--hosted-services");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("saved: 201 true");
    const storage = /storage in (\S+) \(removed after the run\)/.exec(run.stderr)?.[1] ?? "";
    expect(storage).not.toBe("");
    expect(existsSync(storage)).toBe(false);
  });

  test("without the flag the action gets no results service", () => {
    const run = spawnSync(process.execPath, [cli, "run", scratch], {
      encoding: "utf8",
      env: { ...process.env, ACTIONS_RESULTS_URL: "http://127.0.0.1:1/" },
      timeout: 60_000,
    });
    // The runner does not pass a shell's ACTIONS_* through, so the probe has no URL to call.
    expect(run.stdout).toContain("cache service v2: undefined");
    expect(run.stderr).not.toContain("hosted services");
  });
});
