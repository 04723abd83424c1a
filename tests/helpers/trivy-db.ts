import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { CredentialStore, parseReference, RegistryClient } from "@frostyard/oci";
import { repoRoot } from "./run-action";

/**
 * A real Trivy vulnerability DB for tests that cannot download one: tests/fixtures/trivy-db/gen.go writes
 * trivy-db's BoltDB layout (schema 2) from advisories.json (real Debian advisories, see SOURCES.md there),
 * built offline with Debian's Go and bbolt sources; pushDbArtifact serves it the way Trivy pulls it.
 */
export const TRIVY_DB_FIXTURES = join(repoRoot, "tests/fixtures/trivy-db");
const GO = "/usr/bin/go";
/** Debian's golang-github-coreos-bbolt-dev (with golang-golang-x-sys-dev) installs the sources here. */
const GOCODE = "/usr/share/gocode";

/** Why the generator cannot be built (`describe.skipIf`), or false; under FROSTYARD_REQUIRE_TOOLS=1 it throws. */
export function trivyDbGeneratorUnavailable(): string | false {
  const missing = [
    [GO, "golang-go"],
    [join(GOCODE, "src/go.etcd.io/bbolt/db.go"), "golang-github-coreos-bbolt-dev"],
  ].filter(([path]) => !existsSync(path!));
  if (missing.length === 0) return false;
  const reason = `the Trivy DB generator needs ${missing.map(([path, pkg]) => `${path} (${pkg})`).join(", ")}`;
  if (process.env.FROSTYARD_REQUIRE_TOOLS === "1")
    throw new Error(`${reason}; FROSTYARD_REQUIRE_TOOLS=1 forbids skipping`);
  console.warn(`SKIP: ${reason}`);
  return reason;
}

let built: Promise<string> | undefined;

/** Compiles gen.go once per process, in GOPATH mode against Debian's sources: no module download. */
export function trivyDbGenerator(): Promise<string> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "frostyard-trivy-gen-"));
    const binary = join(dir, "gen");
    execFileSync(GO, ["build", "-o", binary, join(TRIVY_DB_FIXTURES, "gen.go")], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: dir,
        GO111MODULE: "off",
        GOPATH: `${GOCODE}:${dir}`,
        GOCACHE: join(dir, "cache"),
        GOFLAGS: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return binary;
  })();
  return built;
}

export interface TrivyDbTimes {
  /** metadata.json UpdatedAt: when the DB's content was built (the summary's DB age). */
  updatedAt: Date;
  /** metadata.json NextUpdate: before it, Trivy keeps the DB it has without asking any repository. */
  nextUpdate: Date;
}

/** Writes trivy.db and metadata.json into `outDir` from advisories.json (or another spec). */
export async function writeTrivyDb(
  outDir: string,
  times: TrivyDbTimes,
  spec = join(TRIVY_DB_FIXTURES, "advisories.json"),
): Promise<void> {
  const gen = await trivyDbGenerator();
  execFileSync(gen, [
    "-spec",
    spec,
    "-out",
    outDir,
    "-updated-at",
    times.updatedAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
    "-next-update",
    times.nextUpdate.toISOString().replace(/\.\d{3}Z$/, "Z"),
  ]);
}

/** The media types Trivy's DB download asks for (trivy-db's `oras push` of db.tar.gz). */
export const TRIVY_DB_CONFIG_MEDIA_TYPE = "application/vnd.aquasec.trivy.config.v1+json";
export const TRIVY_DB_LAYER_MEDIA_TYPE = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

const digestOf = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/**
 * Pushes `dbDir`'s trivy.db and metadata.json as Trivy's DB artifact: one layer, db.tar.gz, named by its
 * title annotation (Trivy takes the file name from it and unpacks by extension), under `reference`
 * (e.g. `127.0.0.1:5000/aquasecurity/trivy-db:2`). Returns the manifest digest.
 */
export async function pushTrivyDb(reference: string, dbDir: string): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), "frostyard-trivy-db-push-"));
  try {
    const tarball = join(scratch, "db.tar.gz");
    execFileSync("tar", ["-czf", tarball, "-C", dbDir, "trivy.db", "metadata.json"]);
    const layer = await readFile(tarball);
    const config = Buffer.from("{}");
    const ref = parseReference(reference);
    const client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
    for (const blob of [config, layer]) await client.uploadBlob(ref, digestOf(blob), blob, blob.length);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: TRIVY_DB_CONFIG_MEDIA_TYPE, digest: digestOf(config), size: config.length },
        layers: [
          {
            mediaType: TRIVY_DB_LAYER_MEDIA_TYPE,
            digest: digestOf(layer),
            size: layer.length,
            annotations: { "org.opencontainers.image.title": "db.tar.gz" },
          },
        ],
      }),
    );
    return await client.putManifest(ref, manifest, OCI_MANIFEST);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The advisory the DB and the planted package meet on: Debian 12's glibc before its DSA-5514-1 fix. */
export const PLANTED = {
  os: "debian 12",
  package: "libc6",
  source: "glibc",
  installed: "2.36-9+deb12u2",
  /** CVE-2023-4911 (HIGH), fixed in 2.36-9+deb12u3; CVE-2026-4438 (MEDIUM), fixed in 2.36-9+deb12u14. */
  findings: [
    { id: "CVE-2023-4911", severity: "HIGH", fixed: "2.36-9+deb12u3" },
    { id: "CVE-2026-4438", severity: "MEDIUM", fixed: "2.36-9+deb12u14" },
  ],
  /** Fixed in exactly the installed version: never reported. */
  notAffected: "CVE-2023-4527",
} as const;

const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`;

/**
 * A Debian 12 root with libc6 at a version that had real advisories: what Trivy reads of an OS (its
 * os-release and dpkg's status database; the stanzas in tests/fixtures/trivy-db/dpkg-status).
 */
export async function plantVulnerableRootfs(root: string): Promise<void> {
  await mkdir(join(root, "etc"), { recursive: true });
  await mkdir(join(root, "var/lib/dpkg"), { recursive: true });
  await writeFile(join(root, "etc/os-release"), OS_RELEASE);
  await writeFile(join(root, "etc/debian_version"), "12.4\n");
  await copyFile(join(TRIVY_DB_FIXTURES, "dpkg-status"), join(root, "var/lib/dpkg/status"));
}

/** `root` as a one-layer OCI image layout in `layoutDir` (GNU tar + node gzip, not the code under test). */
export async function writeRootfsLayout(root: string, layoutDir: string): Promise<void> {
  const tar = execFileSync(
    "tar",
    [
      "--create",
      "--file=-",
      "--sort=name",
      "--mtime=@0",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "-C",
      root,
      ".",
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [digestOf(tar)] },
      config: {},
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: digestOf(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: digestOf(layer),
          size: layer.length,
        },
      ],
    }),
  );
  await mkdir(join(layoutDir, "blobs/sha256"), { recursive: true });
  for (const blob of [layer, config, manifest])
    await writeFile(join(layoutDir, "blobs/sha256", digestOf(blob).slice("sha256:".length)), blob);
  await writeFile(join(layoutDir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(layoutDir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: digestOf(manifest),
          size: manifest.length,
          annotations: { "org.opencontainers.image.ref.name": "latest" },
        },
      ],
    }),
  );
}
