export * from "./labels";
export * from "./package-rootfs";
