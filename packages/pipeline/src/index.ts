export * from "./stages";
export * from "./pipeline";
export * from "./layout-rootfs";
