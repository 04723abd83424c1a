import { InputError } from "@frostyard/kit";
import { ANNOTATION_REF_NAME, type ImageIndex } from "@frostyard/oci";

/** The layout's manifest to push: its digest and the ref name the publish path finds it by. */
export interface ChosenManifest {
  digest: string;
  refName: string;
}

const LAYOUT_ACCEPTED = "an OCI image layout directory, e.g. build-mkosi's oci-layout output";

const listed = (names: readonly string[]) => (names.length > 0 ? names.join(", ") : "none is named");

/**
 * Which of a layout's manifests is pushed: the one named `refName`, or without a name the layout's only
 * one. A layout holding several (a directory reused across builds, an index written by other tools) is
 * never guessed from: the error lists the names to choose from. The publish path finds the manifest by
 * its ref name, so an unnamed one is refused.
 */
export function chooseManifest(index: ImageIndex, layout: string, refName?: string): ChosenManifest {
  const names = index.manifests.flatMap((m) => {
    const name = m.annotations?.[ANNOTATION_REF_NAME];
    return name ? [name] : [];
  });
  if (index.manifests.length === 0)
    throw new InputError(
      "oci-layout",
      `${layout} holds no manifest (its index.json is empty)`,
      LAYOUT_ACCEPTED,
    );
  if (refName !== undefined) {
    const found = index.manifests.filter((m) => m.annotations?.[ANNOTATION_REF_NAME] === refName);
    if (found.length === 0)
      throw new InputError(
        "ref-name",
        `no manifest named '${refName}' in ${layout}`,
        `a ref name the layout has: ${listed(names)}`,
      );
    if (found.length > 1)
      throw new InputError(
        "oci-layout",
        `${layout} has ${found.length} manifests named '${refName}'`,
        "a layout whose ref names are unique, as the OCI image layout specification requires",
      );
    return { digest: found[0]!.digest, refName };
  }
  if (index.manifests.length > 1)
    throw new InputError(
      "ref-name",
      `is empty and ${layout} holds ${index.manifests.length} manifests (named: ${listed(names)})`,
      "the ref name of the one to push (build-mkosi names its image by the image version)",
    );
  const only = index.manifests[0]!;
  const name = only.annotations?.[ANNOTATION_REF_NAME];
  if (!name)
    throw new InputError(
      "oci-layout",
      `the only manifest in ${layout} (${only.digest}) has no ${ANNOTATION_REF_NAME} annotation`,
      "a layout whose manifest is named, as build-mkosi's is (skopeo copy … oci:DIR:NAME names it too)",
    );
  return { digest: only.digest, refName: name };
}

/** A layout that cannot be read (no oci-layout file, no index.json), as the input that named it. */
export function unreadableLayout(layout: string, error: unknown): InputError {
  return new InputError("oci-layout", `${layout}: ${(error as Error).message}`, LAYOUT_ACCEPTED);
}
