/**
 * The pin-digest benchmark. 200 image references spread over Containerfiles and compose files (50
 * distinct, each written 4 times), against a real registry (Debian's docker-registry) behind a loopback
 * proxy that delays every request by 50 ms, as a distant registry would. Measured in one run:
 *
 *   1. pinDigests (HEAD requests, identical references deduplicated, 16 in flight), and
 *   2. a sequential `skopeo inspect` loop over the same 200 references, as a shell script would do it.
 *
 * The proxy counts requests by method, independently of the client's own stats. Figures go to stdout
 * and, unless --no-docs, into docs/benchmarks/pin-digest.md.
 */
import { execFile } from "node:child_process";
import { cpus } from "node:os";
import { createServer, request as httpRequest, Agent } from "node:http";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { recordingLogger } from "@frostyard/kit";
import { RegistryClient } from "@frostyard/oci";
import { pinDigests, registryResolver } from "@frostyard/pin-digest";
import { pushMultiArchIndex, pushTestImage } from "../tests/helpers/images";
import { startRegistry } from "../tests/helpers/registry";

const run = promisify(execFile);

interface Options {
  delayMs: number;
  refs: number;
  distinct: number;
  concurrency: number;
  docs: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { delayMs: 50, refs: 200, distinct: 50, concurrency: 16, docs: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const number = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${arg} needs a non-negative integer`);
      return v;
    };
    if (arg === "--delay-ms") options.delayMs = number();
    else if (arg === "--refs") options.refs = number();
    else if (arg === "--distinct") options.distinct = number();
    else if (arg === "--concurrency") options.concurrency = number();
    else if (arg === "--no-docs") options.docs = false;
    else
      throw new Error(
        `unknown argument '${arg}'; expected --delay-ms N, --refs N, --distinct N, --concurrency N, --no-docs`,
      );
  }
  if (options.distinct < 1 || options.refs < options.distinct)
    throw new Error("--refs must be ≥ --distinct ≥ 1");
  return options;
}

/** A loopback HTTP proxy in front of `target` that waits `delayMs` before forwarding each request. */
async function startDelayProxy(target: URL, delayMs: number) {
  const counts: Record<string, number> = {};
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server = createServer((req, res) => {
    counts[req.method ?? "?"] = (counts[req.method ?? "?"] ?? 0) + 1;
    setTimeout(() => {
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      req.pipe(upstream);
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    counts,
    reset: () => Object.keys(counts).forEach((k) => delete counts[k]),
    stop: () => new Promise<void>((r) => (agent.destroy(), server.close(() => r()))),
  };
}

/** Tags an already pushed manifest under more tags with the registry API (much faster than skopeo per tag). */
async function retag(registryUrl: string, repo: string, from: string, tags: string[]): Promise<void> {
  const accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";
  const got = await fetch(`${registryUrl}/v2/${repo}/manifests/${from}`, { headers: { Accept: accept } });
  if (!got.ok) throw new Error(`GET ${repo}:${from}: HTTP ${got.status}`);
  const type = got.headers.get("content-type") ?? "";
  const body = Buffer.from(await got.arrayBuffer());
  for (const tag of tags) {
    const put = await fetch(`${registryUrl}/v2/${repo}/manifests/${tag}`, {
      method: "PUT",
      headers: { "content-type": type },
      body,
    });
    if (put.status !== 201) throw new Error(`PUT ${repo}:${tag}: HTTP ${put.status}`);
  }
}

function ms(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const repoRoot = process.cwd(); // scripts/run-bench.mjs runs this from the repository root
  const registry = await startRegistry();
  const proxy = await startDelayProxy(new URL(registry.url), options.delayMs);
  const work = await mkdtemp(join(tmpdir(), "bench-pin-"));
  try {
    // Distinct references: repos r0..r9, tags t0..; repo r0 is a multi-arch index.
    const repos = Math.min(10, options.distinct);
    const distinct: { repo: string; tag: string; digest: string }[] = [];
    const setupStart = performance.now();
    for (let r = 0; r < repos; r++) {
      const repo = `bench/r${r}`;
      const digest =
        r === 0
          ? (await pushMultiArchIndex(registry.host, `${repo}:t0`)).indexDigest
          : await pushTestImage(registry.host, `${repo}:t0`, { content: `bench ${r}` });
      const tags = Array.from({ length: Math.ceil(options.distinct / repos) }, (_, t) => `t${t}`);
      await retag(registry.url, repo, "t0", tags.slice(1));
      for (const tag of tags) if (distinct.length < options.distinct) distinct.push({ repo, tag, digest });
    }
    distinct.sort((a, b) => a.repo.localeCompare(b.repo) || a.tag.localeCompare(b.tag));
    const setupMs = performance.now() - setupStart;

    // The same reference written several times, across files of both formats.
    const refs = Array.from({ length: options.refs }, (_, i) => distinct[i % distinct.length]!);
    const perFile = 10;
    const files: Record<string, string> = {};
    for (let f = 0; f * perFile < refs.length; f++) {
      const chunk = refs.slice(f * perFile, (f + 1) * perFile).map((d) => `${proxy.host}/${d.repo}:${d.tag}`);
      if (f % 2 === 0) {
        files[`images/${f}/Containerfile`] = chunk.map((r, i) => `FROM ${r} AS s${i}\nRUN true\n`).join("\n");
      } else {
        files[`services/${f}/compose.yaml`] =
          "services:\n" + chunk.map((r, i) => `  s${i}:\n    image: ${r} # service ${i}\n`).join("");
      }
    }
    for (const [file, text] of Object.entries(files)) {
      await mkdir(join(work, file, ".."), { recursive: true });
      await writeFile(join(work, file), text);
    }

    // 1. pin-digest, as shipped (bounded concurrency) and with one lookup at a time (dedupe alone).
    const pinOnce = async (concurrency: number) => {
      for (const [file, text] of Object.entries(files)) await writeFile(join(work, file), text);
      proxy.reset();
      const client = new RegistryClient({ retry: { attempts: 1 } });
      const start = performance.now();
      const report = await pinDigests({
        root: work,
        mode: "pin",
        include: "images",
        images: registryResolver(client),
        concurrency,
        logger: recordingLogger(),
      });
      const elapsed = performance.now() - start;
      const pinned = report.outcomes.filter((o) => o.status === "pinned");
      const wrong = pinned.filter((o) => {
        const d = distinct.find((x) => `${proxy.host}/${x.repo}:${x.tag}` === o.old);
        return !d || o.new !== `${o.old}@${d.digest}`;
      });
      if (pinned.length !== refs.length || wrong.length > 0) {
        throw new Error(
          `pin-digest pinned ${pinned.length}/${refs.length}, ${wrong.length} to a wrong digest`,
        );
      }
      return { ms: elapsed, counts: { ...proxy.counts }, lookups: report.lookups.images };
    };
    const pin = await pinOnce(options.concurrency);
    const pinSequential = await pinOnce(1);

    // 2. sequential skopeo inspect over the same references, then over the distinct ones only.
    const skopeoLoop = async (list: typeof refs) => {
      proxy.reset();
      const start = performance.now();
      for (const d of list) {
        await run("skopeo", [
          "inspect",
          "--tls-verify=false",
          "--format",
          "{{.Digest}}",
          `docker://${proxy.host}/${d.repo}:${d.tag}`,
        ]);
      }
      return { ms: performance.now() - start, counts: { ...proxy.counts }, lookups: list.length };
    };
    const skopeo = await skopeoLoop(refs);
    const skopeoDistinct = await skopeoLoop(distinct);
    const { stdout: skopeoVersion } = await run("skopeo", ["--version"]);

    const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    const methods = (c: Record<string, number>) =>
      Object.entries(c)
        .sort()
        .map(([m, n]) => `${n} ${m}`)
        .join(", ");
    const speedup = skopeo.ms / pin.ms;
    const row = (what: string, m: { ms: number; counts: Record<string, number>; lookups: number }) => [
      what,
      ms(m.ms),
      String(total(m.counts)),
      methods(m.counts),
      String(m.lookups),
    ];
    const rows = [
      row(`**pin-digest** (\`pinDigests\`, concurrency ${options.concurrency})`, pin),
      row("pin-digest, concurrency 1 (deduplication alone)", pinSequential),
      row(`**sequential \`skopeo inspect\` loop** over the ${refs.length} references`, skopeo),
      row(
        `sequential \`skopeo inspect\` over the ${distinct.length} distinct references only`,
        skopeoDistinct,
      ),
    ];
    const table = [
      "| what | wall time | requests at the proxy | by method | lookups |",
      "| --- | --- | --- | --- | --- |",
      ...rows.map((r) => `| ${r.join(" | ")} |`),
    ].join("\n");
    const headOnly = Object.keys(pin.counts).every((m) => m === "HEAD");
    const verdict =
      `pin-digest was ${speedup.toFixed(1)}× faster than the skopeo loop (target ≥ 20×: ${speedup >= 20 ? "met" : "NOT met"}) ` +
      `and sent ${headOnly ? "HEAD requests only" : "requests other than HEAD"}, one per distinct reference ` +
      `(${pin.lookups} for ${refs.length} references).`;

    console.log(table);
    console.log(verdict);

    if (options.docs) {
      const doc = [
        "# pin-digest benchmark",
        "",
        "```",
        "npm run bench:pin",
        "```",
        "",
        `${refs.length} image references (${distinct.length} distinct, each written ${refs.length / distinct.length} times; one`,
        "repository is a multi-arch index) in " +
          Object.keys(files).length +
          " files (Containerfiles and compose files), resolved",
        "against a real registry (Debian's `docker-registry`, distribution 2.8) on 127.0.0.1, reached through a",
        `loopback proxy that delays every request by ${options.delayMs} ms, as a distant registry would. The proxy counts the`,
        "requests it forwards, independently of the client. Both measurements are from the same run; every pin",
        "is checked against the digest the test image was pushed with.",
        "",
        table,
        "",
        `**${verdict}**`,
        "",
        `Against a skopeo loop that skips duplicates it is still ${(skopeoDistinct.ms / pin.ms).toFixed(1)}× faster; with one lookup at a`,
        `time it takes ${ms(pinSequential.ms)}, so deduplication and ${options.concurrency} lookups in flight both count.`,
        "",
        "Why: each distinct reference is one `HEAD /v2/<repo>/manifests/<tag>` (no `GET`, which Docker Hub counts",
        `against its pull limit), up to ${options.concurrency} in flight; identical references share one lookup. \`skopeo inspect\``,
        "starts a process per reference and fetches the manifest (and, for an index, the platform manifest) and",
        "the image config with `GET`s, one after another.",
        "",
        "Measured on: " +
          `${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}, Node ${process.versions.node}, ${skopeoVersion.trim()}; ` +
          `setup (pushing ${repos} images with skopeo and tagging) ${ms(setupMs)}, not counted.`,
        "",
        "Options: `npm run bench:pin -- --delay-ms 50 --refs 200 --distinct 50 --concurrency 16 --no-docs`.",
        "",
      ].join("\n");
      await mkdir(join(repoRoot, "docs/benchmarks"), { recursive: true });
      await writeFile(join(repoRoot, "docs/benchmarks/pin-digest.md"), doc);
      console.log("wrote docs/benchmarks/pin-digest.md");
    }
  } finally {
    await proxy.stop();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
