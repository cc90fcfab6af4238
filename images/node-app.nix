# A Node.js service image from one TypeScript entry point: the npm dependencies come from package-lock.json
# (importNpmLock fetches each by its integrity hash, so no extra hash to maintain), esbuild bundles the entry
# into one ES module (images/bundle.ts), and the image holds only nodejs and that file: no npm, no node_modules,
# no shell. It runs as nobody (65534) and is fine with a read-only root filesystem.
{ pkgs, name, entry, bundleName, port ? null, extraEnv ? [ ] }:
let
  lib = pkgs.lib;
  root = ./..;
  # Only what the bundle needs, so that editing docs or tests does not rebuild the images.
  src = lib.cleanSourceWith {
    src = root;
    filter = path: type:
      let rel = lib.removePrefix (toString root + "/") (toString path);
      in rel == "package.json" || rel == "package-lock.json" || rel == "tsconfig.json" || rel == "images"
        || rel == "images/bundle.ts" || lib.hasPrefix "operator" rel || lib.hasPrefix "log-exporter" rel
        || lib.hasPrefix "prometheus-rules" rel;
  };
  bundle = pkgs.buildNpmPackage {
    pname = "torchain-${name}";
    version = "0.1.0";
    inherit src;
    nodejs = pkgs.nodejs_20;
    npmDeps = pkgs.importNpmLock { npmRoot = src; };
    npmConfigHook = pkgs.importNpmLock.npmConfigHook;
    dontNpmBuild = true;
    buildPhase = ''
      runHook preBuild
      node_modules/.bin/tsx images/bundle.ts ${entry} dist/${bundleName}
      runHook postBuild
    '';
    installPhase = ''
      runHook preInstall
      install -Dm444 dist/${bundleName} $out/lib/torchain/${bundleName}
      runHook postInstall
    '';
  };
in
pkgs.dockerTools.buildLayeredImage {
  name = "torchain/${name}";
  tag = "0.1.0";
  extraCommands = ''
    mkdir -p tmp
    chmod 1777 tmp
  '';
  config = {
    Entrypoint = [ "${pkgs.nodejs_20}/bin/node" "${bundle}/lib/torchain/${bundleName}" ];
    Env = [ "NODE_ENV=production" ] ++ extraEnv;
    User = "65534:65534";
    ExposedPorts = lib.optionalAttrs (port != null) { "${toString port}/tcp" = { }; };
  };
}
