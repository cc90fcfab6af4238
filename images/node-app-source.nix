# Which files of the repository the Node images' build reads (images/node-app.nix): the npm manifests and tsconfig,
# the bundler, and the source folders the bundled entries import — the services and the shared contracts in common/.
# Everything else stays out, so editing docs, tests or the lab does not rebuild the images.
# test/images/declaration.test.ts checks, with esbuild's own list of inputs, that every file a bundle reads is kept.
let
  dirs = [ "common" "operator" "log-exporter" "prometheus-rules" ];
  files = [ "package.json" "package-lock.json" "tsconfig.json" "images" "images/bundle.ts" ];
  under = dir: rel: rel == dir || builtins.substring 0 (builtins.stringLength dir + 1) rel == dir + "/";
in
# A path relative to the repository root (no leading slash) → whether the build source keeps it.
rel: builtins.elem rel files || builtins.any (dir: under dir rel) dirs
