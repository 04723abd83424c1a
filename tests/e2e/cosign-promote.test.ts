import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordingLogger } from "@frostyard/kit";
import {
  generateCosignKeyPair,
  keySigner,
  promoteTags,
  promoteTagsReadBack,
  signImages,
  type CosignKeyPair,
} from "@frostyard/cosign";
import {
  CredentialStore,
  parseReference,
  RegistryClient,
  withDigest,
  withTag,
  type RepositoryRef,
} from "@frostyard/oci";
import { IMAGE_TOOLS, pushTestImage } from "../helpers/images";
import { startRegistry, type TestRegistry } from "../helpers/registry";
import { missingTools } from "../helpers/tools";

/**
 * Promotion races against a real registry: two runs moving the same floating tag. The last PUT wins; the
 * tag is re-read after the PUT, so the run that lost says so instead of reporting the tag as its own. The
 * interleaving is forced with the hook between PUT and read-back, where the other writer moves the tag.
 */
describe.skipIf(missingTools("docker-registry", ...IMAGE_TOOLS))("promotion read-back", () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let key: CosignKeyPair;

  beforeAll(async () => {
    [registry, key] = await Promise.all([startRegistry(), generateCosignKeyPair("p")]);
    client = new RegistryClient({ credentials: new CredentialStore({ authFiles: [] }) });
  });
  afterAll(async () => registry?.stop());

  const repo = (name: string): RepositoryRef => parseReference(`${registry.host}/${name}`);
  const tagDigest = async (name: string, tag: string) =>
    (await client.headManifest(withTag(repo(name), tag)))?.digest;
  /** Another writer moving `tag` to `digest`: the same manifest PUT a promotion does. */
  const moveTag = async (name: string, tag: string, digest: string) => {
    const manifest = await client.getManifest(withDigest({ ...repo(name) }, digest));
    await client.putManifest(withTag(repo(name), tag), manifest!.bytes, manifest!.mediaType);
  };

  test("a tag moved by another writer between the PUT and the read-back is reported as moved, with a warning", async () => {
    const ours = await pushTestImage(registry.host, "acme/moved:1", { content: "ours" });
    const theirs = await pushTestImage(registry.host, "acme/moved:2", { content: "theirs" });
    const logger = recordingLogger();
    const results = await promoteTagsReadBack(client, repo("acme/moved"), ours, ["latest", "stable"], {
      logger,
      afterPut: async (reference) => {
        if (reference.endsWith(":latest")) await moveTag("acme/moved", "latest", theirs);
      },
    });
    expect(results).toEqual([
      { reference: `${registry.host}/acme/moved:latest`, digest: theirs, promoted: false },
      { reference: `${registry.host}/acme/moved:stable`, digest: ours, promoted: true },
    ]);
    expect(logger.lines).toEqual([
      `warning: ${registry.host}/acme/moved:latest was promoted to ${ours}, but another writer moved it: it now names ${theirs}`,
    ]);
    expect(await tagDigest("acme/moved", "latest")).toBe(theirs);
    expect(await tagDigest("acme/moved", "stable")).toBe(ours);
  });

  test("promoteTags lists only the tags that still name the digest", async () => {
    const ours = await pushTestImage(registry.host, "acme/list:1", { content: "list ours" });
    const theirs = await pushTestImage(registry.host, "acme/list:2", { content: "list theirs" });
    const moved = await promoteTags(client, repo("acme/list"), ours, ["latest", "stable"], {
      afterPut: async (reference) => {
        if (reference.endsWith(":stable")) await moveTag("acme/list", "stable", theirs);
      },
    });
    expect(moved).toEqual([`${registry.host}/acme/list:latest`]);
  });

  test("two runs promoting latest at once: only the run whose digest the tag ends on reports it promoted", async () => {
    const a = await pushTestImage(registry.host, "acme/race:a", { content: "race a" });
    const b = await pushTestImage(registry.host, "acme/race:b", { content: "race b" });
    // Run A's read-back waits until run B has PUT latest: the interleaving where both used to claim it.
    let bPut!: () => void;
    const afterBPut = new Promise<void>((resolve) => (bPut = resolve));
    const run = (tag: string, afterPromotePut: () => Promise<void>) => {
      const logger = recordingLogger();
      const report = signImages({
        client,
        images: [`${registry.host}/acme/race:${tag}`],
        signer: keySigner(key),
        format: "legacy",
        recursive: false,
        annotations: {},
        promoteTags: ["latest"],
        logger,
        afterPromotePut,
      });
      return { logger, report };
    };
    const runA = run("a", () => afterBPut);
    // B starts only once A is waiting between its PUT and read-back.
    const runB = (async () => {
      while ((await tagDigest("acme/race", "latest")) !== a) await new Promise((r) => setTimeout(r, 20));
      return run("b", async () => bPut());
    })();
    const [reportA, { report: reportBPromise }] = await Promise.all([runA.report, runB]);
    const reportB = await reportBPromise;

    expect(await tagDigest("acme/race", "latest")).toBe(b);
    expect(reportA.verified).toBe(true);
    expect(reportB.verified).toBe(true);
    expect(reportB.images[0]!.promoted).toEqual([`${registry.host}/acme/race:latest`]);
    expect(reportB.images[0]!.superseded).toEqual([]);
    expect(reportA.images[0]!.promoted).toEqual([]);
    expect(reportA.images[0]!.superseded).toEqual([
      { reference: `${registry.host}/acme/race:latest`, digest: b },
    ]);
    expect(runA.logger.lines).toContain(
      `warning: ${registry.host}/acme/race:latest was promoted to ${a}, but another writer moved it: it now names ${b}`,
    );
    expect(runA.logger.lines.some((l) => l.startsWith("promoted "))).toBe(false);
  });
});
