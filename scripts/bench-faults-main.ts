/**
 * The fault benchmark. One 33 MiB, 6-layer OCI layout pushed 20 times (each to a fresh repository, so
 * every blob is uploaded) to a real registry (Debian's docker-registry) through the seeded fault proxy
 * of tests/helpers/fault-proxy.ts, at 10% and 30% faulty requests (429 with Retry-After, 502/503,
 * resets mid-request and mid-response, truncated bodies, stalls that end in a reset), by
 *
 *   1. pushLayout (our client, default retry policy and timeouts), and
 *   2. `skopeo copy --retry-times 4 oci:<layout>:1.0 docker://…` (once per tag),
 *
 * under the same schedules (push i at a rate uses the same seed for both). A push is exact when every
 * tag, read back from the registry directly (not through the proxy), names the layout's manifest digest.
 * Figures go to stdout and, unless --no-docs, into docs/benchmarks/faults.md.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { recordingLogger } from "@frostyard/kit";
import {
  OCI_IMAGE_CONFIG,
  OCI_IMAGE_MANIFEST,
  OCI_LAYER_TAR_GZIP,
  pushLayout,
  RegistryClient,
  sha256Digest,
  writeBlob,
  writeManifest,
} from "@frostyard/oci";
import { containersConfig } from "../tests/helpers/containers";
import { seededFaults, startFaultProxy } from "../tests/helpers/fault-proxy";
import { startRegistry } from "../tests/helpers/registry";

const run = promisify(execFile);
const MiB = 1024 * 1024;
const LAYER_MIB = [12, 8, 6, 4, 2, 1];
const TAGS = ["1.0", "latest"];

interface Options {
  runs: number;
  rates: number[];
  stallMs: number;
  docs: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { runs: 20, rates: [0.1, 0.3], stallMs: 1_000, docs: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--runs") options.runs = Number(value());
    else if (arg === "--rates") options.rates = value().split(",").map(Number);
    else if (arg === "--stall-ms") options.stallMs = Number(value());
    else if (arg === "--no-docs") options.docs = false;
    else
      throw new Error(
        `unknown argument '${arg}'; expected --runs N, --rates 0.1,0.3, --stall-ms N, --no-docs`,
      );
  }
  if (!Number.isInteger(options.runs) || options.runs < 1)
    throw new Error("--runs must be a whole number ≥ 1");
  if (options.rates.some((r) => !(r >= 0 && r < 1))) throw new Error("--rates must be fractions in [0, 1)");
  return options;
}

interface Outcome {
  exact: boolean;
  retries: number;
  ms: number;
  faults: number;
  error?: string;
}

interface Row {
  tool: string;
  rate: number;
  outcomes: Outcome[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const firstLine = (text: string) =>
  text
    .split("\n")
    .find((l) => l.trim())
    ?.trim() ?? "";

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const repoRoot = process.cwd(); // scripts/run-bench.mjs runs this from the repository root
  const work = await mkdtemp(join(tmpdir(), "bench-faults-"));
  const registry = await startRegistry();
  const proxy = await startFaultProxy(registry.host);
  const containers = await containersConfig({ insecureRegistries: [proxy.host, registry.host] });
  try {
    const layout = join(work, "layout");
    // Real gzip layers and a config whose diff_ids match, so skopeo has nothing to convert.
    const tars = LAYER_MIB.map((size) => randomBytes(size * MiB));
    const layers = await Promise.all(tars.map((tar) => writeBlob(layout, gzipSync(tar, { level: 1 }))));
    const config = await writeBlob(
      layout,
      Buffer.from(
        JSON.stringify({
          architecture: "amd64",
          os: "linux",
          rootfs: { type: "layers", diff_ids: tars.map((tar) => sha256Digest(tar)) },
        }),
      ),
    );
    const { digest } = await writeManifest(
      layout,
      {
        schemaVersion: 2,
        mediaType: OCI_IMAGE_MANIFEST,
        config: { mediaType: OCI_IMAGE_CONFIG, ...config },
        layers: layers.map((l) => ({ mediaType: OCI_LAYER_TAR_GZIP, ...l })),
      },
      { refName: "1.0" },
    );
    const direct = new RegistryClient();
    const exact = async (repository: string) => {
      for (const tag of TAGS) {
        const head = await direct.headManifest({ registry: registry.host, repository, tag });
        if (head?.digest !== digest) return false;
      }
      return true;
    };

    const ours = async (repository: string): Promise<Omit<Outcome, "ms" | "faults">> => {
      let retries = 0;
      const client = new RegistryClient({ logger: recordingLogger(), retry: { onRetry: () => retries++ } });
      try {
        await pushLayout({
          client,
          layout,
          refName: "1.0",
          target: { registry: proxy.host, repository },
          tags: TAGS,
          logger: recordingLogger(),
        });
        return { exact: await exact(repository), retries };
      } catch (error) {
        return { exact: false, retries, error: firstLine((error as Error).message) };
      }
    };

    const skopeo = async (repository: string): Promise<Omit<Outcome, "ms" | "faults">> => {
      let retries = 0;
      for (const tag of TAGS) {
        try {
          const { stderr } = await run(
            "skopeo",
            [
              "copy",
              "--policy",
              containers.policyPath,
              "--retry-times",
              "4",
              "--preserve-digests",
              "--dest-tls-verify=false",
              `oci:${layout}:1.0`,
              `docker://${proxy.host}/${repository}:${tag}`,
            ],
            { env: { ...process.env, ...containers.env }, timeout: 300_000, maxBuffer: 16 * MiB },
          );
          retries += (stderr.match(/retrying/gi) ?? []).length;
        } catch (error) {
          const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
          retries += (stderr.match(/retrying/gi) ?? []).length;
          return {
            exact: false,
            retries,
            error: firstLine(stderr.split("\n").filter(Boolean).at(-1) ?? stderr),
          };
        }
      }
      return { exact: await exact(repository), retries };
    };

    const rows: Row[] = [];
    const started = Date.now();
    for (const [r, rate] of options.rates.entries()) {
      for (const [tool, push] of [
        ["pushLayout", ours],
        ["skopeo copy --retry-times 4", skopeo],
      ] as const) {
        const row: Row = { tool, rate, outcomes: [] };
        for (let i = 0; i < options.runs; i++) {
          proxy.setSchedule(seededFaults({ seed: 1_000 * (r + 1) + i, rate, stallMs: options.stallMs }));
          const before = proxy.faults();
          const t0 = Date.now();
          const outcome = await push(
            `bench/${tool.split(" ")[0]!.toLowerCase()}-${Math.round(rate * 100)}-${i}`,
          );
          row.outcomes.push({ ...outcome, ms: Date.now() - t0, faults: proxy.faults() - before });
          process.stdout.write(outcome.exact ? "." : "x");
        }
        proxy.setSchedule(undefined);
        rows.push(row);
        const sum = (f: (o: Outcome) => number) => row.outcomes.reduce((s, o) => s + f(o), 0);
        console.log(
          ` ${tool} at ${rate * 100}%: ${sum((o) => (o.exact ? 1 : 0))}/${options.runs} exact, ${sum((o) => o.retries)} retries, ${sum((o) => o.faults)} faults, ${seconds(sum((o) => o.ms))}`,
        );
      }
    }
    const totalMs = Date.now() - started;

    const table = [
      "| faulty requests | pusher | exact pushes | retries | faults injected | total time | slowest push |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      ...rows.map((row) => {
        const sum = (f: (o: Outcome) => number) => row.outcomes.reduce((s, o) => s + f(o), 0);
        return `| ${row.rate * 100}% | ${row.tool} | ${sum((o) => (o.exact ? 1 : 0))} / ${row.outcomes.length} | ${sum((o) => o.retries)} | ${sum((o) => o.faults)} | ${seconds(sum((o) => o.ms))} | ${seconds(Math.max(...row.outcomes.map((o) => o.ms)))} |`;
      }),
    ].join("\n");
    const failures = rows.flatMap((row) =>
      row.outcomes
        .map((o, i) => ({ o, i }))
        .filter(({ o }) => !o.exact)
        .map(
          ({ o, i }) =>
            `- ${row.tool} at ${row.rate * 100}%, push ${i + 1}: ${o.error ?? "pushed, but a tag names another digest"}`,
        ),
    );
    console.log(table);
    if (failures.length > 0) console.log(failures.join("\n"));

    if (options.docs) {
      const { stdout: skopeoVersion } = await run("skopeo", ["--version"]);
      const doc = [
        "# Pushing through faults",
        "",
        "```",
        "npm run bench:faults",
        "```",
        "",
        `One OCI layout (${LAYER_MIB.reduce((a, b) => a + b, 0)} MiB in ${LAYER_MIB.length} gzip layers of random bytes: ${LAYER_MIB.join(", ")} MiB before compression, plus a config)`,
        `pushed ${options.runs} times per row, each time to a fresh repository so that every blob is uploaded, under the`,
        `tags ${TAGS.join(" and ")}, to a real registry (Debian's \`docker-registry\`, distribution 2.8) on 127.0.0.1`,
        "through the fault proxy of `tests/helpers/fault-proxy.ts`. Each request is faulty with the given",
        "probability, the fault drawn from: 429 with `Retry-After: 1`, 502, 503, a reset after up to 2 MiB of",
        "the request body, a reset or a clean close (truncated body) after up to 2 MiB of the response,",
        `or a stall of ${options.stallMs} ms that ends in a reset. Push *i* at a rate uses the same seed for both`,
        "pushers, so both meet the same schedule of faults (the requests they make differ, so the faults that",
        "land differ too). A push counts as exact when both tags, read back from the registry directly, name",
        "the layout's manifest digest.",
        "",
        "- pushLayout: `RegistryClient` with its defaults (5 attempts, backoff from 500 ms, 60 s idle timeout),",
        "  4 blobs in flight.",
        "- skopeo: `skopeo copy --retry-times 4 --preserve-digests --dest-tls-verify=false oci:<layout>:1.0 docker://<proxy>/<repo>:<tag>`,",
        '  once per tag; retries counted from the "retrying" lines on its stderr.',
        "",
        table,
        "",
        ...(failures.length > 0 ? ["Pushes that were not exact:", "", ...failures, ""] : []),
        "Before the fixes of issue 9 (a reset mid blob PUT reported as a digest mismatch and never retried,",
        "blob GETs with no timeout, manifest bodies read outside the retry), pushLayout pushed a 33 MiB",
        "6-layer image exactly in 11 of 20 runs at 30% faulty requests through the same kind of proxy.",
        "",
        `Whole run: ${seconds(totalMs)}. Measured on: ${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}, Node ${process.versions.node}, ${skopeoVersion.trim()}.`,
        "",
        "Options: `npm run bench:faults -- --runs 20 --rates 0.1,0.3 --stall-ms 1000 --no-docs`.",
        "",
      ].join("\n");
      await mkdir(join(repoRoot, "docs/benchmarks"), { recursive: true });
      await writeFile(join(repoRoot, "docs/benchmarks/faults.md"), doc);
      console.log("wrote docs/benchmarks/faults.md");
    }
  } finally {
    await proxy.stop();
    await registry.stop();
    await containers.cleanup();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
