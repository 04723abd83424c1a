import type { PackageOptions } from "./package-rootfs";

/**
 * A packaging option the library cannot honour, named as the library's API names it (`maxLayers`, not an
 * action's `max-layers`): the action that took the value from its user maps it to that input.
 */
export class PackageOptionError extends Error {
  constructor(
    readonly option: keyof PackageOptions,
    readonly problem: string,
    readonly accepted: string,
  ) {
    super(`packaging option ${option}: ${problem}; expected ${accepted}`);
    this.name = "PackageOptionError";
  }
}
