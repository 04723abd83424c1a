import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DefaultArtifactClient } from "@actions/artifact";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import { uploadSet } from "../../packages/actions/src/build-sysext/upload";
import {
  hostedServicesUnavailable,
  startTestHostedServices,
  useHostedEnv,
  type HostedServices,
} from "../helpers/hosted-services";

/**
 * @actions/artifact (what the build-sysext and disk-image actions will upload with) against the hosted
 * artifact service as a GitHub-hosted job reaches it: ACTIONS_RESULTS_URL and a runtime token whose `scp`
 * names the run. GitHub's service cannot be reached from here, so tests/helpers/hosted-services.ts serves
 * the Twirp front and real Azure blob storage (azurite) on 127.0.0.1; the library is the real one, in
 * this process, and every byte goes through azurite.
 */

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe.skipIf(hostedServicesUnavailable())("@actions/artifact against the hosted artifact service", () => {
  let services: HostedServices;
  let scratch: string;
  let restoreEnv: () => void;
  const files = { binary: randomBytes(3 * 1024 * 1024 + 17), text: Buffer.from("sysext manifest\n") };

  beforeAll(async () => {
    services = await startTestHostedServices();
    scratch = await mkdtemp(join(tmpdir(), "frostyard-hosted-artifact-"));
    restoreEnv = useHostedEnv(services, { GITHUB_WORKSPACE: scratch });
    await mkdir(join(scratch, "upload/sub"), { recursive: true });
    await writeFile(join(scratch, "upload/image.raw"), files.binary);
    await writeFile(join(scratch, "upload/sub/image.manifest"), files.text);
  });

  afterAll(async () => {
    restoreEnv?.();
    await services?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const blobBytes = async (blob: string) => {
    const response = await fetch(services.blobs.signedUrl(blob, "r"));
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  };

  test("a directory uploads as a zip into blob storage and downloads with the same bytes", async () => {
    const client = new DefaultArtifactClient();
    const uploaded = await client.uploadArtifact(
      "os-images",
      [join(scratch, "upload/image.raw"), join(scratch, "upload/sub/image.manifest")],
      join(scratch, "upload"),
    );
    expect(uploaded.id).toBeGreaterThan(0);

    // What the service recorded is what landed in azurite: size, and the uploader's digest of the bytes.
    const [stored] = services.store.listArtifacts(services.ids.workflowRunBackendId);
    expect(stored).toMatchObject({ id: uploaded.id, name: "os-images", mimeType: "application/zip" });
    const zip = await blobBytes(stored?.blob ?? "");
    expect(zip.subarray(0, 4).toString("hex")).toBe("504b0304");
    expect(stored?.sizeBytes).toBe(zip.length);
    expect(uploaded.size).toBe(zip.length);
    expect(uploaded.digest).toBe(sha256(zip));
    expect(stored?.digest).toBe(`sha256:${sha256(zip)}`);

    const { artifacts } = await client.listArtifacts();
    expect(artifacts).toEqual([
      expect.objectContaining({
        name: "os-images",
        id: uploaded.id,
        size: zip.length,
        digest: `sha256:${sha256(zip)}`,
      }),
    ]);
    const { artifact } = await client.getArtifact("os-images");
    expect(artifact.id).toBe(uploaded.id);
    expect(artifact.createdAt).toBeInstanceOf(Date);

    const out = join(scratch, "download");
    const downloaded = await client.downloadArtifact(uploaded.id ?? -1, {
      path: out,
      expectedHash: `sha256:${uploaded.digest}`,
    });
    expect(downloaded).toEqual({ downloadPath: out, digestMismatch: false });
    expect((await readdir(out)).sort()).toEqual(["image.raw", "sub"]);
    expect(sha256(await readFile(join(out, "image.raw")))).toBe(sha256(files.binary));
    expect(await readFile(join(out, "sub/image.manifest"))).toEqual(files.text);

    const calls = services.results.requests.map((r) => `${r.method.split(".").at(-1)} ${r.status}`);
    expect(calls).toEqual(
      expect.arrayContaining([
        "ArtifactService/CreateArtifact 200",
        "ArtifactService/FinalizeArtifact 200",
        "ArtifactService/ListArtifacts 200",
        "ArtifactService/GetSignedArtifactURL 200",
      ]),
    );
  });

  test("a single file with skipArchive keeps its name and bytes (no zip)", async () => {
    const client = new DefaultArtifactClient();
    const uploaded = await client.uploadArtifact(
      "image.raw",
      [join(scratch, "upload/image.raw")],
      join(scratch, "upload"),
      {
        skipArchive: true,
      },
    );
    const stored = services.store.listArtifacts(services.ids.workflowRunBackendId, { id: uploaded.id })[0];
    expect(stored?.mimeType).toBe("application/octet-stream");
    expect(await blobBytes(stored?.blob ?? "")).toEqual(files.binary);
    const out = join(scratch, "download-raw");
    await client.downloadArtifact(uploaded.id ?? -1, { path: out });
    expect(await readdir(out)).toEqual(["image.raw"]);
    expect(sha256(await readFile(join(out, "image.raw")))).toBe(sha256(files.binary));
  });

  test("a second artifact of the same name in the run is refused", async () => {
    const client = new DefaultArtifactClient();
    await expect(
      client.uploadArtifact(
        "os-images",
        [join(scratch, "upload/sub/image.manifest")],
        join(scratch, "upload"),
      ),
    ).rejects.toThrow(/409.*already exists on the workflow run/);
  });

  test("artifacts belong to the run in the token: another run sees none, a forged token gets nothing", async () => {
    const otherRun = { workflowRunBackendId: randomUUID(), workflowJobRunBackendId: randomUUID() };
    const restore = useHostedEnv(services, { ACTIONS_RUNTIME_TOKEN: services.token(otherRun) });
    try {
      expect((await new DefaultArtifactClient().listArtifacts()).artifacts).toEqual([]);
    } finally {
      restore();
    }
    const [header, claims] = services.env.ACTIONS_RUNTIME_TOKEN?.split(".") ?? [];
    const forged = `${header}.${claims}.${Buffer.from("not the service's signature").toString("base64url")}`;
    const restoreForged = useHostedEnv(services, { ACTIONS_RUNTIME_TOKEN: forged });
    try {
      await expect(new DefaultArtifactClient().listArtifacts()).rejects.toThrow(/401.*bad signature/);
    } finally {
      restoreForged();
    }
  });

  test("delete removes the artifact from the list and its blob from storage", async () => {
    const client = new DefaultArtifactClient();
    const [before] = services.store.listArtifacts(services.ids.workflowRunBackendId, { name: "os-images" });
    const { id } = await client.deleteArtifact("os-images");
    expect(id).toBe(before?.id);
    expect((await client.listArtifacts()).artifacts.map((a) => a.name)).toEqual(["image.raw"]);
    expect(await services.blobs.size(before?.blob ?? "")).toBeUndefined();
  });
  test("build-sysext's uploadSet: the published set (a stable-name symlink as the file it names) round-trips", async () => {
    const set = join(scratch, "sysext-set");
    await mkdir(set, { recursive: true });
    const raw = randomBytes(256 * 1024 + 3);
    await writeFile(join(set, "vim_2+9.1_13_x86-64.raw"), raw);
    await symlink("vim_2+9.1_13_x86-64.raw", join(set, "vim.raw"));
    await writeFile(join(set, "SHA256SUMS"), `${sha256(raw)}  vim_2+9.1_13_x86-64.raw\n`);
    const logger = recordingLogger();
    const uploaded = await uploadSet(set, "sysexts-run-1", logger);
    expect(uploaded).toMatchObject({ name: "sysexts-run-1" });
    const id = "id" in uploaded ? uploaded.id : -1;
    expect(id).toBeGreaterThan(0);
    const out = join(scratch, "sysext-download");
    await new DefaultArtifactClient().downloadArtifact(id, { path: out });
    expect((await readdir(out)).sort()).toEqual(["SHA256SUMS", "vim.raw", "vim_2+9.1_13_x86-64.raw"]);
    expect(sha256(await readFile(join(out, "vim_2+9.1_13_x86-64.raw")))).toBe(sha256(raw));
    expect(sha256(await readFile(join(out, "vim.raw")))).toBe(sha256(raw));
    expect(await readFile(join(out, "SHA256SUMS"), "utf8")).toBe(`${sha256(raw)}  vim_2+9.1_13_x86-64.raw\n`);
  });
});
