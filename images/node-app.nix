# A Node.js service image as images/images.json declares it (an image with a `bundle`): the npm dependencies come
# from package-lock.json (importNpmLock fetches each by its integrity hash, so no extra hash to maintain), esbuild
# bundles the entry into one ES module (images/bundle.ts), and the image holds only nodejs_24 and that file: no npm,
# no node_modules, no shell. It runs as the declared user (65534) and is fine with a read-only root filesystem.
{ pkgs ? import ./nixpkgs.nix { }, name }:
let
  lib = pkgs.lib;
  spec = (import ./declaration.nix).imageSpec name;
  nodejs = pkgs.nodejs_24;
  root = ./..;
  keep = import ./node-app-source.nix;
  # Only what the bundle needs (node-app-source.nix), so that editing docs or tests does not rebuild the images.
  src = lib.cleanSourceWith {
    src = root;
    filter = path: type: keep (lib.removePrefix (toString root + "/") (toString path));
  };
  bundle = pkgs.buildNpmPackage {
    pname = "torchain-${name}";
    version = spec.tag;
    inherit src nodejs;
    npmDeps = pkgs.importNpmLock { npmRoot = src; };
    npmConfigHook = pkgs.importNpmLock.npmConfigHook;
    dontNpmBuild = true;
    buildPhase = ''
      runHook preBuild
      node_modules/.bin/tsx images/bundle.ts ${spec.bundle.entry} dist/${spec.bundle.file}
      runHook postBuild
    '';
    installPhase = ''
      runHook preInstall
      install -Dm444 dist/${spec.bundle.file} $out/${spec.script}
      runHook postInstall
    '';
  };
in
assert spec.kind == "node" && spec.program == "node";
pkgs.dockerTools.buildLayeredImage {
  name = spec.imageName;
  tag = spec.tag;
  extraCommands = ''
    ${lib.concatStrings (lib.mapAttrsToList (dir: mode: ''
      mkdir -p .${dir}
      chmod ${mode} .${dir}
    '') spec.dirs)}
  '';
  config = {
    Entrypoint = [ "${nodejs}/bin/node" ] ++ spec.nodeFlags ++ [ "${bundle}/${spec.script}" ];
    Env = lib.mapAttrsToList (k: v: "${k}=${v}") spec.env;
    User = spec.user;
    ExposedPorts = lib.listToAttrs (map (p: lib.nameValuePair "${toString p}/tcp" { }) spec.ports);
    Labels = { "org.opencontainers.image.title" = spec.title; };
  };
}
