// images/images.json, the one declaration of every image: its schema, and the plain values the build derives from it
// (image reference, entrypoint, PATH). images/declaration.nix derives the same for Nix from the same file.
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Name = Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' });
const AbsPath = Type.String({ pattern: '^/[^\\0]*$' });
// Relative, inside the tree: no `.` or `..` component.
const RelPath = Type.String({ pattern: '^(?!\\.\\.?(/|$))[A-Za-z0-9._-]+(/(?!\\.\\.?(/|$))[A-Za-z0-9._-]+)*$' });

const Program = Type.String({ pattern: '^[a-z0-9_.-]+$' });

const PackageSchema = Type.Object(
  {
    /** Debian binary package; its files (less debian.exclude) go into the image. */
    debian: Type.String({ pattern: '^[a-z0-9][a-z0-9+.-]+$' }),
    /** The nixpkgs attribute with the same program. */
    nix: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
    /** Only these files of the package (their libraries still follow). */
    only: Type.Optional(Type.Array(AbsPath, { minItems: 1 })),
    /** `pkgs.<nix>.override <this>` in the Nix build. */
    nixOverride: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Boolean(), Type.String(), Type.Number()]))),
  },
  { additionalProperties: false },
);

const ImageSchema = Type.Object(
  {
    title: Type.String({ minLength: 1 }),
    packages: Type.Array(PackageSchema),
    /** Debian packages installed only so that the shared libraries of the image's programs resolve from them. */
    libraries: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9+.-]+$' }))),
    /** Repository folder → folder under the application directory (/usr/lib/torchain), copied as it is. */
    copy: Type.Optional(Type.Record(RelPath, RelPath)),
    /** A Node.js service: images/bundle.ts turns `entry` into one file `file` in the application directory. */
    bundle: Type.Optional(Type.Object({ entry: RelPath, file: RelPath }, { additionalProperties: false })),
    /** node's own flags (memory tuning), placed between `node` and the bundle. */
    nodeFlags: Type.Optional(Type.Array(Type.String({ pattern: '^--' }))),
    /** [program on PATH, arguments relative to the application directory]. */
    entrypoint: Type.Tuple([Program, RelPath]),
    /** Symlinks to programs on PATH, e.g. /bin/sh → bash (openconnect runs its --script with /bin/sh -c). */
    links: Type.Optional(Type.Record(AbsPath, Program)),
    env: Type.Record(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' }), Type.String()),
    user: Type.String({ pattern: '^[0-9]+:[0-9]+$' }),
    /** Empty directories with their octal mode. */
    dirs: Type.Record(AbsPath, Type.String({ pattern: '^[0-7]{3,4}$' })),
    ports: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 })),
  },
  { additionalProperties: false },
);

const DeclarationSchema = Type.Object(
  {
    comment: Type.Optional(Type.String()),
    repository: Type.String({ pattern: '^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$' }),
    version: Type.String({ pattern: '^[0-9A-Za-z][0-9A-Za-z._-]*$' }),
    debian: Type.Object(
      {
        suite: Type.String({ minLength: 1 }),
        architecture: Type.Literal('amd64'),
        sources: Type.Array(Type.String({ pattern: '^deb https?://' }), { minItems: 1 }),
        exclude: Type.Array(AbsPath),
      },
      { additionalProperties: false },
    ),
    node: Type.Object(
      { package: Type.String({ minLength: 1 }), version: Type.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' }) },
      { additionalProperties: false },
    ),
    images: Type.Record(Name, ImageSchema),
  },
  { additionalProperties: false },
);

export type Declaration = Static<typeof DeclarationSchema>;
export type ImageDecl = Static<typeof ImageSchema>;
export type PackageDecl = Static<typeof PackageSchema>;

/** Where the image's own files live (the hop scripts, the Node bundle). */
export const APP_DIR = '/usr/lib/torchain';
/** Where the Node.js binary from the npm registry goes. */
export const NODE_PATH = '/usr/local/bin/node';
export const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Validates a parsed declaration; throws one error naming every bad field. */
export function parseDeclaration(value: unknown, source = 'images/images.json'): Declaration {
  const errors = [...Value.Errors(DeclarationSchema, value)].map((e) => `${e.path || '/'}: ${e.message}`);
  if (errors.length) throw new Error(`${source} is invalid (fix these fields): ${errors.slice(0, 10).join('; ')}`);
  const decl = value as Declaration;
  for (const [name, img] of Object.entries(decl.images)) {
    const isNode = img.bundle !== undefined;
    if (isNode && img.entrypoint[0] !== 'node')
      throw new Error(`${source}: image ${name} has a bundle, so its entrypoint must start with "node"`);
    if (isNode && img.entrypoint[1] !== img.bundle!.file)
      throw new Error(`${source}: image ${name} must run its bundle ${img.bundle!.file}, not ${img.entrypoint[1]}`);
    if (!isNode && img.nodeFlags?.length)
      throw new Error(`${source}: image ${name} has nodeFlags but no bundle: remove them or add a bundle`);
    if (!isNode && img.packages.length === 0)
      throw new Error(`${source}: image ${name} has neither packages nor a bundle: it would be empty`);
    const seen = new Set<string>();
    for (const p of img.packages) {
      if (seen.has(p.debian)) throw new Error(`${source}: image ${name} lists package ${p.debian} twice`);
      seen.add(p.debian);
    }
  }
  return decl;
}

export function loadDeclaration(path: string): Declaration {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the image declaration ${path}: ${(err as Error).message}`);
  }
  return parseDeclaration(raw, path);
}

/** `ghcr.io/torchain/hop-openvpn:0.1.0`: the name the archive carries (org.opencontainers.image.ref.name). */
export function imageRef(decl: Declaration, name: string): string {
  return `${decl.repository}/${name}:${decl.version}`;
}

/** Debian packages to install for an image: its programs' packages, then its library packages. */
export function debianRequests(img: ImageDecl): string[] {
  return [...new Set([...img.packages.map((p) => p.debian), ...(img.libraries ?? [])])].sort();
}

/** The container entrypoint inside the Debian-built image; `resolve` finds the program on the image's PATH. */
export function entrypointOf(img: ImageDecl, resolve: (program: string) => string): string[] {
  const [program, script] = img.entrypoint;
  const exe = program === 'node' && img.bundle ? NODE_PATH : resolve(program);
  return [exe, ...(img.nodeFlags ?? []), `${APP_DIR}/${script}`];
}
