import { InputError } from "@frostyard/kit";
import { KeyPackageError, SysextNameError, SysextSelectionError } from "@frostyard/sysext";
import { asInputError } from "../domain-errors";

/**
 * The sysext library's errors about values a user set, as InputErrors naming the input; a key package
 * named by the project's KEYPACKAGE= (not the input) stays the project's error.
 */
export function asSysextInputError(error: unknown, keyPackageInput: boolean): unknown {
  if (error instanceof SysextSelectionError)
    return new InputError(
      error.field,
      error.message,
      {
        directory: "an mkosi project with Format=sysext images under mkosi.images/ (with the profiles given)",
        images: "names of the project's Format=sysext images, or empty for all of them",
        base: "the name of the Format=directory image the extensions extend",
      }[error.field],
    );
  if (error instanceof KeyPackageError && keyPackageInput)
    return new InputError(
      "key-package",
      error.message,
      "a package the extension itself adds (listed in its manifest)",
    );
  if (error instanceof SysextNameError && error.field === "revision")
    return new InputError("revision", error.message, "letters, digits, '.', '+' and '~'");
  return asInputError(error);
}
