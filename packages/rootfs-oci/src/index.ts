export * from "./compress";
export * from "./dpkg";
export * from "./image-config";
export * from "./labels";
export * from "./package-rootfs";
export * from "./plan";
export * from "./tar";
export * from "./walk";
