import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { runWorkflow, type WorkflowRun } from "@frostyard/runner";
import { startTestHostedServices, type HostedServices } from "./hosted-services";
import { startRegistry, type TestRegistry } from "./registry";
import { repoRoot } from "./run-action";
import { ensureToolbox, inToolbox, type Toolbox, type ToolboxResult } from "./toolbox";
import { writeHostPolicy } from "./host-policy";

/**
 * What the reusable workflow's end-to-end tests share: a scratch directory holding the caller's checkout,
 * the trixie toolbox, a cosign key pair made by the trixie skopeo (an independent key maker), a real
 * registry with password auth, the loopback hosted services, and `.github/workflows/build.yml` run through
 * `frostyard-build workflow`'s runner with the key and credentials as secrets.
 */
export interface WorkflowE2E {
  toolbox: Toolbox;
  /** The workflow's workspace and temp directory; the caller's project goes in here. */
  scratch: string;
  /** The key pair, policy and registries.d the trixie skopeo verifies with. */
  keys: string;
  registry: TestRegistry;
  services: HostedServices;
  credentials: { user: string; password: string };
  passphrase: string;
  /** build.yml for `event`, with the caller's `inputs` over the image, key signing and the system mkosi. */
  run(event: "push" | "pull_request", inputs: Record<string, string>): Promise<WorkflowRun>;
  catalog(): Promise<string[]>;
  tags(repository: string): Promise<string[]>;
  /** The digest the registry serves for a tag (an image or an index); null when it has none. */
  digestOf(repository: string, tag: string): Promise<string | null>;
  /** A `sigstoreSigned` policy for the registry with the workflow's public key (or `publicKey`); returns its path. */
  writePolicy(publicKey?: string): Promise<string>;
  /** The trixie skopeo, with the keys directory (policy, registries.d, copies pulled into it) visible inside. */
  skopeo(args: string[]): Promise<ToolboxResult>;
  stop(): Promise<void>;
}

export const SOURCE_DATE_EPOCH = "1735689600";
/** build-mkosi's pinned default would be downloaded; the toolbox's mkosi 25.3 is that version. */
const MKOSI_REF = "system";

export async function startWorkflowE2E(options: {
  scratchPrefix: string;
  credentials: { user: string; password: string };
  passphrase: string;
}): Promise<WorkflowE2E> {
  const { credentials, passphrase } = options;
  const toolbox = await ensureToolbox();
  const scratch = await mkdtemp(join(tmpdir(), options.scratchPrefix));
  const keys = join(scratch, "keys");
  await mkdir(keys);
  await writeFile(join(keys, "passphrase"), passphrase, { mode: 0o600 });
  const made = await inToolbox(
    [
      "skopeo",
      "generate-sigstore-key",
      "--output-prefix",
      join(keys, "cosign"),
      "--passphrase-file",
      join(keys, "passphrase"),
    ],
    { binds: [keys] },
  );
  if (made.code !== 0) throw new Error(`skopeo generate-sigstore-key failed: ${made.stderr}`);
  const [registry, services] = await Promise.all([
    startRegistry({ htpasswd: credentials }),
    startTestHostedServices(),
  ]);
  await writeFile(
    join(keys, "registries.yaml"),
    `docker:\n  ${registry.host}:\n    use-sigstore-attachments: true\n`,
  );

  const authHeader = {
    authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString("base64")}`,
  };

  return {
    toolbox,
    scratch,
    keys,
    registry,
    services,
    credentials,
    passphrase,
    async run(event, inputs) {
      return runWorkflow({
        file: join(repoRoot, ".github/workflows/build.yml"),
        event,
        workdir: scratch,
        tempDir: scratch,
        services,
        repository: "frostyard/e2e-os",
        sha: "0123456789abcdef0123456789abcdef01234567",
        inputs: {
          image: `${registry.host}/os`,
          "mkosi-ref": MKOSI_REF,
          signing: "key",
          ...inputs,
        },
        secrets: {
          COSIGN_PRIVATE_KEY: await readFile(join(keys, "cosign.private"), "utf8"),
          COSIGN_PASSWORD: passphrase,
          REGISTRY_USERNAME: credentials.user,
          REGISTRY_PASSWORD: credentials.password,
        },
        env: {
          ...toolbox.env,
          FROSTYARD_TOOLBOX_BINDS: scratch,
          FROSTYARD_BUILD_CACHE: join(scratch, "build-cache"),
          SOURCE_DATE_EPOCH,
        },
        stepTimeoutMs: 900_000,
      });
    },
    async catalog() {
      const response = await fetch(`${registry.url}/v2/_catalog`, { headers: authHeader });
      return ((await response.json()) as { repositories: string[] | null }).repositories ?? [];
    },
    async tags(repository) {
      const response = await fetch(`${registry.url}/v2/${repository}/tags/list`, { headers: authHeader });
      if (response.status === 404) return [];
      return (((await response.json()) as { tags: string[] | null }).tags ?? []).sort();
    },
    async digestOf(repository, tag) {
      const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
        method: "HEAD",
        headers: {
          ...authHeader,
          accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
        },
      });
      return response.headers.get("docker-content-digest");
    },
    writePolicy(publicKey = join(keys, "cosign.pub")) {
      return writeHostPolicy(
        join(keys, `policy-${basename(publicKey, ".pub")}.json`),
        registry.host,
        publicKey,
      );
    },
    skopeo(args) {
      return inToolbox(["skopeo", ...args], { binds: [keys] });
    },
    async stop() {
      await Promise.all([registry.stop(), services.stop()]);
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
