/** A package an image adds, from mkosi's JSON manifest (`ManifestFormat=json`). */
export interface ManifestPackage {
  name: string;
  version: string;
  architecture?: string;
}

/**
 * mkosi's JSON manifest → its packages. A sysext's manifest lists only the packages the extension adds to
 * its base, so this is also "packages added".
 */
export function parseManifest(json: string, where: string): ManifestPackage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new Error(`${where} is not JSON: ${(error as Error).message}`);
  }
  const packages = (parsed as { packages?: unknown } | null)?.packages;
  if (!Array.isArray(packages))
    throw new Error(`${where} has no 'packages' list (is it an mkosi JSON manifest?)`);
  return packages.flatMap((raw): ManifestPackage[] => {
    const p = raw as Record<string, unknown>;
    if (typeof p.name !== "string" || typeof p.version !== "string") return [];
    return [
      {
        name: p.name,
        version: p.version,
        ...(typeof p.architecture === "string" ? { architecture: p.architecture } : {}),
      },
    ];
  });
}

/** The key package's version, or an error naming what the manifest does hold. */
export function keyPackageVersion(
  packages: readonly ManifestPackage[],
  keyPackage: string,
  where: string,
): string {
  const found = packages.find((p) => p.name === keyPackage);
  if (!found) {
    const names = packages.map((p) => p.name).slice(0, 20);
    throw new KeyPackageError(
      keyPackage,
      `is not in ${where}, which lists ${names.length > 0 ? names.join(", ") : "no packages"}${packages.length > 20 ? ", …" : ""}`,
    );
  }
  return found.version;
}

/** The key package named is not among the packages the extension adds. */
export class KeyPackageError extends Error {
  constructor(
    readonly keyPackage: string,
    readonly problem: string,
  ) {
    super(`key package '${keyPackage}' ${problem}`);
    this.name = "KeyPackageError";
  }
}

/**
 * Which package names an extension's version: the action's input wins, then `KEYPACKAGE=` in the image's
 * mkosi environment (`Environment=KEYPACKAGE=…`); none means the image version.
 */
export function keyPackageOf(
  input: string | undefined,
  environment: Readonly<Record<string, string>>,
): string | undefined {
  const fromInput = input?.trim();
  if (fromInput) return fromInput;
  const fromEnv = environment.KEYPACKAGE?.trim();
  return fromEnv ? fromEnv : undefined;
}
