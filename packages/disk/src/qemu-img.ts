import { QEMU_FORMAT } from "./types";

/**
 * `qemu-img convert` arguments from a raw disk to a VM disk type. qcow2 is compressed (the file is shipped;
 * compression costs only the one conversion); vhd is Azure's form, fixed size, with the virtual size kept
 * exactly (`force_size`) rather than rounded to a CHS geometry; vmdk keeps qemu's default monolithic sparse
 * form, which VMware and QEMU both open.
 */
export function convertArgv(type: string, source: string, destination: string): string[] {
  const format = QEMU_FORMAT[type];
  if (format === undefined) throw new Error(`qemu-img makes no '${type}' disk`);
  const options: Record<string, string[]> = {
    raw: [],
    qcow2: ["-c", "-o", "compat=1.1"],
    vmdk: [],
    vpc: ["-o", "subformat=fixed,force_size=on"],
  };
  return ["convert", "-f", "raw", "-O", format, ...options[format]!, source, destination];
}

export function infoArgv(path: string, format?: string): string[] {
  return ["info", "--output=json", ...(format ? ["-f", format] : []), path];
}

export interface DiskInfo {
  format: string;
  virtualSize: number;
  actualSize?: number;
}

/** `qemu-img info --output=json`'s fields this action reports and checks. */
export function parseDiskInfo(json: string): DiskInfo {
  const raw = JSON.parse(json) as Record<string, unknown>;
  if (typeof raw.format !== "string" || typeof raw["virtual-size"] !== "number")
    throw new Error("qemu-img info printed no format and virtual-size");
  return {
    format: raw.format,
    virtualSize: raw["virtual-size"],
    ...(typeof raw["actual-size"] === "number" ? { actualSize: raw["actual-size"] } : {}),
  };
}

/**
 * Why a converted disk is not what was asked for, or undefined when it is. A fixed VHD holds a 512-byte
 * footer past the data, and qemu reports its virtual size from that footer, so sizes compare exactly.
 */
export function conversionProblem(
  type: string,
  info: DiskInfo,
  sourceVirtualSize: number,
): string | undefined {
  const expected = QEMU_FORMAT[type];
  if (info.format !== expected) return `qemu-img reads it as ${info.format}, not ${expected}`;
  if (info.virtualSize !== sourceVirtualSize)
    return `its virtual size is ${info.virtualSize} bytes, the source's ${sourceVirtualSize}`;
  return undefined;
}
