export * from "./types";
export * from "./builder-argv";
export * from "./qemu-img";
export * from "./checksums";
export * from "./boot";
export * from "./toml";
export * from "./config";
