/** The engines that make a disk; `builder` input values. */
export const BUILDERS = ["image-builder", "bootc-image-builder", "mkosi", "qemu-img"] as const;
export type Builder = (typeof BUILDERS)[number];

/**
 * What each engine can make. image-builder's list is its `build` command's bootc types; bootc-image-builder's
 * is its `--type` list (`iso` is its older name for anaconda-iso); mkosi and qemu-img make VM disks only,
 * by converting a raw disk.
 */
export const BUILDER_TYPES: Record<Builder, readonly string[]> = {
  "image-builder": [
    "raw",
    "ami",
    "qcow2",
    "vmdk",
    "vhd",
    "gce",
    "ova",
    "bootc-installer",
    "bootc-generic-iso",
    "anaconda-iso",
    "pxe-tar-xz",
  ],
  "bootc-image-builder": ["raw", "ami", "qcow2", "vmdk", "vhd", "gce", "anaconda-iso", "iso"],
  mkosi: ["raw", "qcow2", "vmdk", "vhd"],
  "qemu-img": ["raw", "qcow2", "vmdk", "vhd"],
};

const ALL_TYPES = [...new Set(Object.values(BUILDER_TYPES).flat())].sort();

/** A type no builder knows, or one the chosen builder lacks: the entry maps it to the `types` input. */
export class DiskTypeError extends Error {
  constructor(
    readonly type: string,
    readonly builder: Builder,
    readonly known: boolean,
  ) {
    super(
      known
        ? `'${type}' is not a type ${builder} makes (${BUILDER_TYPES[builder].join(", ")}); ${buildersOf(type).join(" or ")} makes it`
        : `'${type.slice(0, 40)}' is not a disk image type`,
    );
    this.name = "DiskTypeError";
  }
}

function buildersOf(type: string): Builder[] {
  return BUILDERS.filter((b) => BUILDER_TYPES[b].includes(type));
}

/** What the types input accepts for a builder, for InputError's `accepted`. */
export function acceptedTypes(builder: Builder): string {
  return BUILDER_TYPES[builder].join(", ");
}

/** The requested types, checked against the builder, each once in the order given. */
export function validateTypes(builder: Builder, types: readonly string[]): string[] {
  const out: string[] = [];
  for (const type of types) {
    if (!BUILDER_TYPES[builder].includes(type))
      throw new DiskTypeError(type, builder, ALL_TYPES.includes(type));
    if (!out.includes(type)) out.push(type);
  }
  return out;
}

/** Types a VM boots from directly (the boot test's candidates); installers and archives are not. */
export const BOOTABLE_TYPES: readonly string[] = ["raw", "ami", "qcow2", "vmdk", "vhd"];

/** The qemu-img format of a VM disk type, for `qemu-img info` checks and the boot test's `-drive format=`. */
export const QEMU_FORMAT: Readonly<Record<string, string>> = {
  raw: "raw",
  ami: "raw",
  qcow2: "qcow2",
  vmdk: "vmdk",
  // qemu calls Microsoft's VHD "vpc".
  vhd: "vpc",
};

/**
 * Where bootc-image-builder puts each type under its /output (its README and the bootc-image-builder
 * action's output-paths example: vhd under vpc/, raw and ami under image/).
 */
export const BIB_OUTPUT_PATHS: Readonly<Record<string, string>> = {
  raw: "image/disk.raw",
  ami: "image/disk.raw",
  qcow2: "qcow2/disk.qcow2",
  vmdk: "vmdk/disk.vmdk",
  vhd: "vpc/disk.vhd",
  gce: "gce/image.tar.gz",
  "anaconda-iso": "bootiso/install.iso",
  iso: "bootiso/install.iso",
};

/** File name extension of each type as image-builder writes it. */
export const IMAGE_BUILDER_EXTENSIONS: Readonly<Record<string, string>> = {
  raw: "raw",
  ami: "raw",
  qcow2: "qcow2",
  vmdk: "vmdk",
  vhd: "vhd",
  gce: "tar.gz",
  ova: "ova",
  "bootc-installer": "iso",
  "bootc-generic-iso": "iso",
  "anaconda-iso": "iso",
  "pxe-tar-xz": "tar.xz",
};

/**
 * The path of a type's file relative to the output directory. image-builder runs once per type into its own
 * directory and names the file itself (`<type>/`, found by `imageBuilderOutput`); bootc-image-builder lays
 * its own out; mkosi and qemu-img write `<name>.<ext>` side by side.
 */
export function outputPath(builder: Builder, type: string, name = "disk"): string {
  switch (builder) {
    case "image-builder":
      return `${type}/`;
    case "bootc-image-builder":
      return BIB_OUTPUT_PATHS[type]!;
    case "mkosi":
    case "qemu-img":
      return `${name}.${type}`;
  }
}

/** Architectures: what the input takes, and how each builder spells them. */
export const ARCHES = ["amd64", "arm64", "x86_64", "aarch64"] as const;
export type Arch = "amd64" | "arm64";

export function normalizeArch(arch: string): Arch | undefined {
  if (arch === "amd64" || arch === "x86_64") return "amd64";
  if (arch === "arm64" || arch === "aarch64") return "arm64";
  return undefined;
}

/** image-builder and QEMU say x86_64/aarch64; bootc-image-builder's --target-arch says amd64/arm64. */
export function kernelArch(arch: Arch): "x86_64" | "aarch64" {
  return arch === "amd64" ? "x86_64" : "aarch64";
}

/** The runner's own architecture, in the input's terms. */
export function hostArch(nodeArch: string = process.arch): Arch | undefined {
  return nodeArch === "x64" ? "amd64" : nodeArch === "arm64" ? "arm64" : undefined;
}
