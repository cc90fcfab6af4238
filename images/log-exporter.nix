# nix-build images/log-exporter.nix  →  the log-exporter sidecar (node + one bundled file, non-root, no shell).
{ pkgs ? import ./nixpkgs.nix { } }:
import ./node-app.nix {
  inherit pkgs;
  name = "log-exporter";
  entry = "log-exporter/src/main.ts";
  bundleName = "log-exporter.mjs";
  port = 9108;
}
