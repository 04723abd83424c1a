import type { MkosiImage } from "@frostyard/mkosi";

/** The project cannot make what was asked (no sysext images, unknown names, no base to read). */
export class SysextSelectionError extends Error {
  constructor(
    readonly field: "directory" | "images" | "base",
    message: string,
  ) {
    super(message);
    this.name = "SysextSelectionError";
  }
}

/** The Format=sysext images to publish: all of them, or those named (each must be one). */
export function selectSysextImages(images: readonly MkosiImage[], wanted: readonly string[]): MkosiImage[] {
  const sysexts = images.filter((image) => image.format === "sysext");
  if (sysexts.length === 0)
    throw new SysextSelectionError(
      "directory",
      `the project builds no Format=sysext image (images: ${images.map((i) => `${i.name} (${i.format})`).join(", ")}); ` +
        "add one under mkosi.images/ with Format=sysext, or check the profiles",
    );
  if (wanted.length === 0) return sysexts;
  const unknown = wanted.filter((name) => !sysexts.some((image) => image.name === name));
  if (unknown.length > 0)
    throw new SysextSelectionError(
      "images",
      `${unknown.map((n) => `'${n}'`).join(", ")} ${unknown.length === 1 ? "is" : "are"} not a Format=sysext image of this build; ` +
        `the sysext images are: ${sysexts.map((i) => i.name).join(", ")}`,
    );
  return sysexts.filter((image) => wanted.includes(image.name));
}

/** The base the extensions extend: the image named, or the build's one Format=directory image. */
export function selectBase(images: readonly MkosiImage[], wanted: string | undefined): MkosiImage {
  const directories = images.filter((image) => image.format === "directory");
  if (wanted !== undefined) {
    const base = images.find((image) => image.name === wanted);
    if (!base || base.format !== "directory")
      throw new SysextSelectionError(
        "base",
        `'${wanted}' is not a Format=directory image of this build; directory images: ${directories.map((i) => i.name).join(", ") || "none"}`,
      );
    return base;
  }
  if (directories.length !== 1)
    throw new SysextSelectionError(
      "base",
      directories.length === 0
        ? "the build has no Format=directory image to read the base's os-release from"
        : `the build has ${directories.length} Format=directory images (${directories.map((i) => i.name).join(", ")}); name the base`,
    );
  return directories[0]!;
}
