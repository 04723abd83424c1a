/**
 * mkosi's architecture names (its `Architecture` enum, mkosi 25) and, where one is unambiguous, the OCI
 * platform an image built for it declares. `arm` has none: it is armhf (v7) or armel (v5), which only the
 * tree's dpkg can tell.
 */
export const MKOSI_ARCHITECTURES: Readonly<Record<string, string | undefined>> = {
  "x86-64": "amd64",
  arm64: "arm64/v8",
  x86: "386",
  "ppc64-le": "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loongarch64: "loong64",
  "mips64-le": "mips64le",
  arm: undefined,
  alpha: undefined,
  arc: undefined,
  ia64: undefined,
  "mips-le": undefined,
  parisc: undefined,
  ppc: undefined,
  ppc64: undefined,
  riscv32: undefined,
  s390: undefined,
  tilegx: undefined,
};

/** The OCI names (a workflow matrix's `linux/<arch>`) that are another spelling of one of mkosi's. */
const OCI_ALIASES: ReadonlyMap<string, string> = new Map(
  Object.entries(MKOSI_ARCHITECTURES)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([mkosi, platform]) => [platform.split("/")[0]!, mkosi]),
);

/** Every spelling `mkosiArchitecture` accepts: mkosi's names, then the OCI ones that differ. */
export const ARCHITECTURE_NAMES: readonly string[] = [
  ...Object.keys(MKOSI_ARCHITECTURES),
  ...[...OCI_ALIASES.keys()].filter((name) => !Object.hasOwn(MKOSI_ARCHITECTURES, name)),
];

/** mkosi's name (for `--architecture`) of an mkosi or OCI architecture name (`amd64` → `x86-64`); undefined if neither. */
export function mkosiArchitecture(name: string): string | undefined {
  if (Object.hasOwn(MKOSI_ARCHITECTURES, name)) return name;
  return OCI_ALIASES.get(name);
}

/**
 * The OCI `architecture[/variant]` of what mkosi built (its summary's Architecture): packaging declares it
 * instead of guessing from the build machine, which is wrong for a tree built for another architecture
 * without dpkg in it. Undefined where mkosi's name alone does not tell (the packager then reads dpkg).
 */
export function ociArchitectureOf(mkosiName: string): string | undefined {
  return Object.hasOwn(MKOSI_ARCHITECTURES, mkosiName) ? MKOSI_ARCHITECTURES[mkosiName] : undefined;
}
