import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execStreaming, type Logger } from "@frostyard/kit";
import { withSudo } from "./sudo";

const REF_NAME = "org.opencontainers.image.ref.name";

export interface MkosiOciManifest {
  digest: string;
  size: number;
}

/**
 * mkosi's `Format=oci` writes an OCI layout whose index.json lists one manifest without a ref name; the
 * action pushes layouts by ref name, so the manifest is named (the image version). Refuses an index with
 * other than one manifest, or one already named otherwise.
 */
export function nameSingleManifest(
  indexText: string,
  refName: string,
  where: string,
): { text: string; manifest: MkosiOciManifest } {
  let index: { manifests?: { digest?: unknown; size?: unknown; annotations?: Record<string, string> }[] };
  try {
    index = JSON.parse(indexText) as typeof index;
  } catch (error) {
    throw new Error(`${where}/index.json is not JSON: ${(error as Error).message}`);
  }
  const manifests = Array.isArray(index.manifests) ? index.manifests : [];
  if (manifests.length !== 1) {
    throw new Error(
      `${where}/index.json lists ${manifests.length} manifests; mkosi's Format=oci output has exactly one`,
    );
  }
  const entry = manifests[0]!;
  if (typeof entry.digest !== "string" || typeof entry.size !== "number") {
    throw new Error(`${where}/index.json: its manifest has no digest and size`);
  }
  const existing = entry.annotations?.[REF_NAME];
  if (existing !== undefined && existing !== refName) {
    throw new Error(
      `${where}/index.json names its manifest '${existing}', not the image version '${refName}'`,
    );
  }
  entry.annotations = { ...entry.annotations, [REF_NAME]: refName };
  return { text: JSON.stringify(index), manifest: { digest: entry.digest, size: entry.size } };
}

export interface OciLayer {
  digest: string;
  size: number;
}

/** The layers of a manifest blob in a layout. */
export async function manifestLayers(layout: string, digest: string): Promise<OciLayer[]> {
  const [algorithm, hex] = digest.split(":");
  const manifest = JSON.parse(await readFile(join(layout, "blobs", algorithm!, hex!), "utf8")) as {
    layers?: { digest: string; size: number }[];
  };
  return (manifest.layers ?? []).map((layer) => ({ digest: layer.digest, size: layer.size }));
}

/**
 * Names the manifest of mkosi's OCI layout in place. mkosi (run as root) owns the file, so a non-root
 * action writes it through sudo from a file of its own.
 */
export async function nameMkosiLayout(
  layout: string,
  refName: string,
  options: { sudo: boolean; scratch: string; logger: Logger },
): Promise<MkosiOciManifest> {
  const indexPath = join(layout, "index.json");
  const { text, manifest } = nameSingleManifest(await readFile(indexPath, "utf8"), refName, layout);
  if (!options.sudo) {
    await writeFile(indexPath, text);
    return manifest;
  }
  const staged = join(options.scratch, "mkosi-index.json");
  await writeFile(staged, text);
  const copy = withSudo("cp", [staged, indexPath], true, []);
  await execStreaming(copy.command, copy.args, { logger: options.logger });
  return manifest;
}
