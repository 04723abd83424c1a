import { describe, expect, test } from "vitest";
import {
  acceptedTypes,
  AmiUploadError,
  assertPinned,
  bootcImageBuilderRun,
  BuilderImageError,
  BuilderOptionError,
  convertArgv,
  DEFAULT_BUILDER_IMAGES,
  DiskTypeError,
  imageBuilderOutput,
  imageBuilderRuns,
  infoArgv,
  normalizeArch,
  outputPath,
  parseDiskInfo,
  conversionProblem,
  pullArgv,
  validateTypes,
  renderSha256Sums,
  type BuilderRunOptions,
} from "@frostyard/disk";

const IB = DEFAULT_BUILDER_IMAGES["image-builder"];
const BIB = DEFAULT_BUILDER_IMAGES["bootc-image-builder"];
const SRC = "ghcr.io/acme/os@sha256:" + "a".repeat(64);

describe("types per builder", () => {
  test.each([
    ["image-builder", ["qcow2", "bootc-generic-iso", "qcow2"], ["qcow2", "bootc-generic-iso"]],
    ["bootc-image-builder", ["raw", "anaconda-iso", "vhd"], ["raw", "anaconda-iso", "vhd"]],
    ["qemu-img", ["vmdk", "qcow2"], ["vmdk", "qcow2"]],
    ["mkosi", ["raw"], ["raw"]],
  ] as const)("%s %j", (builder, types, expected) => {
    expect(validateTypes(builder, types)).toEqual(expected);
  });

  test.each([
    [
      "bootc-image-builder",
      "bootc-generic-iso",
      "'bootc-generic-iso' is not a type bootc-image-builder makes",
      true,
    ],
    ["mkosi", "anaconda-iso", "image-builder or bootc-image-builder makes it", true],
    ["qemu-img", "gce", "'gce' is not a type qemu-img makes", true],
    ["image-builder", "floppy", "'floppy' is not a disk image type", false],
  ] as const)("%s refuses %s", (builder, type, message, known) => {
    const error = (() => {
      try {
        validateTypes(builder, [type]);
      } catch (e) {
        return e;
      }
    })() as DiskTypeError;
    expect(error).toBeInstanceOf(DiskTypeError);
    expect(error.message).toContain(message);
    expect(error.known).toBe(known);
  });

  test("accepted types name every type of the builder", () => {
    expect(acceptedTypes("qemu-img")).toBe("raw, qcow2, vmdk, vhd");
  });

  test.each([
    ["bootc-image-builder", "vhd", "vpc/disk.vhd"],
    ["bootc-image-builder", "raw", "image/disk.raw"],
    ["bootc-image-builder", "ami", "image/disk.raw"],
    ["bootc-image-builder", "anaconda-iso", "bootiso/install.iso"],
    ["image-builder", "qcow2", "qcow2/"],
    ["qemu-img", "vhd", "disk.vhd"],
    ["mkosi", "qcow2", "disk.qcow2"],
  ] as const)("%s puts %s at %s", (builder, type, path) => {
    expect(outputPath(builder, type)).toBe(path);
  });

  test.each([
    ["x86_64", "amd64"],
    ["amd64", "amd64"],
    ["aarch64", "arm64"],
    ["s390x", undefined],
  ])("arch %s → %s", (arch, expected) => {
    expect(normalizeArch(arch)).toBe(expected);
  });
});

describe("podman argv", () => {
  const prefix = (image: string, config?: string) => [
    "run",
    "--rm",
    "--privileged",
    "--pull=missing",
    "--security-opt",
    "label=type:unconfined_t",
    "-v",
    "/var/lib/containers/storage:/var/lib/containers/storage",
    "-v",
    "/out:/output",
    ...(config ? ["-v", `${config}:/config.toml:ro`] : []),
    image,
  ];

  test("image-builder: one run per type, each into its own directory", () => {
    const runs = imageBuilderRuns({
      builderImage: IB,
      sourceRef: SRC,
      types: ["qcow2", "bootc-generic-iso"],
      arch: "amd64",
      outputDirectory: "/out",
      configFile: "/w/config.toml",
      installerPayloadRef: "ghcr.io/acme/payload@sha256:" + "b".repeat(64),
      rootfs: "xfs",
    });
    expect(runs.map((r) => r.types)).toEqual([["qcow2"], ["bootc-generic-iso"]]);
    expect(runs[1]!.argv).toEqual([
      ...prefix(IB, "/w/config.toml"),
      "build",
      "--bootc-ref",
      SRC,
      "--bootc-installer-payload-ref",
      "ghcr.io/acme/payload@sha256:" + "b".repeat(64),
      "--bootc-default-fs",
      "xfs",
      "--arch",
      "x86_64",
      "--blueprint",
      "/config.toml",
      "--output-dir",
      "/output/bootc-generic-iso",
      "bootc-generic-iso",
    ]);
    expect(runs[0]!.outputs).toEqual({ qcow2: "qcow2/" });
  });

  test("bootc-image-builder: every type in one run, arch in its own spelling, source last", () => {
    const run = bootcImageBuilderRun({
      builderImage: BIB,
      sourceRef: SRC,
      types: ["qcow2", "vhd", "iso", "anaconda-iso"],
      arch: "arm64",
      outputDirectory: "/out",
      extraArgs: ["--aws-region", "eu-west-1"],
    });
    expect(run.argv).toEqual([
      ...prefix(BIB),
      "--type",
      "qcow2",
      "--type",
      "vhd",
      "--type",
      "anaconda-iso",
      "--target-arch",
      "arm64",
      "--aws-region",
      "eu-west-1",
      SRC,
    ]);
    expect(run.outputs).toEqual({
      qcow2: "qcow2/disk.qcow2",
      vhd: "vpc/disk.vhd",
      "anaconda-iso": "bootiso/install.iso",
    });
  });

  test.each([
    [{ installerPayloadRef: SRC }, "bootc-image-builder has no installer payload option"],
    [{ buildRef: SRC }, "bootc-image-builder has no build image option"],
  ])("bootc-image-builder refuses %j", (extra, message) => {
    const run = () =>
      bootcImageBuilderRun({
        builderImage: BIB,
        sourceRef: SRC,
        types: ["raw"],
        arch: "amd64",
        outputDirectory: "/o",
        ...extra,
      });
    expect(run).toThrow(BuilderOptionError);
    expect(run).toThrow(message);
  });

  const AMI = { name: "frostyard-os 1.2 (x86_64)", bucket: "frostyard-amis", region: "eu-central-1" };
  const AMI_FLAGS = ["--aws-ami-name", AMI.name, "--aws-bucket", AMI.bucket, "--aws-region", AMI.region];
  const CREDENTIALS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];
  const withEnv = (image: string) => [
    ...prefix(image).slice(0, -1),
    ...CREDENTIALS.flatMap((name) => ["-e", name]),
    image,
  ];
  test.each([
    {
      why: "image-builder: the flags and the credentials' names only in the ami run",
      builder: "image-builder",
      types: ["qcow2", "ami"],
      argvs: [
        [
          ...prefix(IB),
          ...["build", "--bootc-ref", SRC, "--arch", "x86_64", "--output-dir", "/output/qcow2"],
          ...["--progress", "verbose", "qcow2"],
        ],
        [
          ...withEnv(IB),
          ...["build", "--bootc-ref", SRC, "--arch", "x86_64", "--output-dir", "/output/ami"],
          ...AMI_FLAGS,
          "--progress",
          "verbose",
          "ami",
        ],
      ],
    },
    {
      why: "bootc-image-builder: one run, the flags after ours and before the passed-through ones, the source last",
      builder: "bootc-image-builder",
      types: ["ami", "qcow2"],
      argvs: [
        [
          ...withEnv(BIB),
          ...["--type", "ami", "--type", "qcow2", "--target-arch", "amd64"],
          ...AMI_FLAGS,
          "--progress",
          "verbose",
          SRC,
        ],
      ],
    },
  ])("AMI upload, $why", ({ builder, types, argvs }) => {
    const options = {
      builderImage: builder === "image-builder" ? IB : BIB,
      sourceRef: SRC,
      types,
      arch: "amd64" as const,
      outputDirectory: "/out",
      amiUpload: AMI,
      amiEnv: CREDENTIALS,
      extraArgs: ["--progress", "verbose"],
    };
    const runs = builder === "image-builder" ? imageBuilderRuns(options) : [bootcImageBuilderRun(options)];
    expect(runs.map((r) => r.argv)).toEqual(argvs);
    // Names only: no value of any variable is on an argv.
    for (const r of runs) expect(r.argv.filter((a) => /^AWS_\w+=/.test(a))).toEqual([]);
  });

  test.each([
    ["image-builder", () => imageBuilderRuns],
    [
      "bootc-image-builder",
      () => (o: Parameters<typeof bootcImageBuilderRun>[0]) => [bootcImageBuilderRun(o)],
    ],
  ] as const)("%s: an AMI upload without the ami type is refused", (_, make) => {
    const run = () =>
      make()({
        builderImage: IB,
        sourceRef: SRC,
        types: ["qcow2", "raw"],
        arch: "amd64",
        outputDirectory: "/o",
        amiUpload: AMI,
      });
    expect(run).toThrow(AmiUploadError);
    expect(run).toThrow("an AMI upload needs the ami type, and types are qcow2, raw");
  });

  test.each([
    "quay.io/centos-bootc/bootc-image-builder:latest",
    "x@sha256:abc",
    "a b@sha256:" + "c".repeat(64),
  ])("builder image %s is not pinned", (image) => {
    expect(() => assertPinned(image)).toThrow(BuilderImageError);
  });

  test("the default builder images are pinned", () => {
    for (const image of Object.values(DEFAULT_BUILDER_IMAGES)) expect(assertPinned(image)).toBe(image);
  });

  test("pull by digest for the target arch", () => {
    expect(pullArgv(SRC, "arm64")).toEqual(["pull", "--arch", "arm64", SRC]);
  });

  test.each([
    [undefined, "/var/lib/containers/storage:/var/lib/containers/storage"],
    ["/mnt/big/containers/storage", "/mnt/big/containers/storage:/var/lib/containers/storage"],
  ])("podman's graph root %s is mounted where both builders read it", (storage, volume) => {
    const options: BuilderRunOptions = {
      builderImage: BIB,
      sourceRef: SRC,
      types: ["raw"],
      arch: "amd64",
      outputDirectory: "/o",
      ...(storage ? { storage } : {}),
    };
    expect(bootcImageBuilderRun(options).argv).toContain(volume);
    expect(imageBuilderRuns(options)[0]!.argv).toContain(volume);
  });

  test.each([
    ["qcow2", ["bootc-fedora-44-qcow2-x86_64.qcow2", "manifest.json"], "bootc-fedora-44-qcow2-x86_64.qcow2"],
    ["gce", ["image.tar.gz"], "image.tar.gz"],
    ["qcow2", [], undefined],
    ["raw", ["a.raw", "b.raw"], undefined],
  ])("image-builder output for %s among %j", (type, names, expected) => {
    expect(imageBuilderOutput(type, names)).toBe(expected);
  });
});

describe("qemu-img", () => {
  test.each([
    ["qcow2", ["convert", "-f", "raw", "-O", "qcow2", "-c", "-o", "compat=1.1", "in.raw", "out"]],
    ["vmdk", ["convert", "-f", "raw", "-O", "vmdk", "in.raw", "out"]],
    ["vhd", ["convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", "in.raw", "out"]],
    ["raw", ["convert", "-f", "raw", "-O", "raw", "in.raw", "out"]],
  ])("convert to %s", (type, argv) => {
    expect(convertArgv(type, "in.raw", "out")).toEqual(argv);
  });

  test("convert refuses what qemu-img does not make", () => {
    expect(() => convertArgv("gce", "a", "b")).toThrow("qemu-img makes no 'gce' disk");
  });

  test("info argv", () => {
    expect(infoArgv("d.vhd", "vpc")).toEqual(["info", "--output=json", "-f", "vpc", "d.vhd"]);
  });

  test("info parse and checks", () => {
    const info = parseDiskInfo(
      '{"virtual-size": 67108864, "filename": "d", "format": "vpc", "actual-size": 4096}',
    );
    expect(info).toEqual({ format: "vpc", virtualSize: 67108864, actualSize: 4096 });
    expect(conversionProblem("vhd", info, 67108864)).toBeUndefined();
    expect(conversionProblem("qcow2", info, 67108864)).toBe("qemu-img reads it as vpc, not qcow2");
    expect(conversionProblem("vhd", info, 1024)).toBe(
      "its virtual size is 67108864 bytes, the source's 1024",
    );
    expect(() => parseDiskInfo("{}")).toThrow("no format and virtual-size");
  });

  test("SHA256SUMS is sorted and in sha256sum's form", () => {
    expect(
      renderSha256Sums([
        { name: "disk.vhd", sha256: "b".repeat(64) },
        { name: "disk.qcow2", sha256: "a".repeat(64) },
      ]),
    ).toBe(`${"a".repeat(64)}  disk.qcow2\n${"b".repeat(64)}  disk.vhd\n`);
  });
});
