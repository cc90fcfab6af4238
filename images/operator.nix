# nix-build images/operator.nix  →  the operator (node + one bundled file, non-root, no shell).
{ pkgs ? import ./nixpkgs.nix { } }:
import ./node-app.nix {
  inherit pkgs;
  name = "operator";
  entry = "operator/src/main.ts";
  bundleName = "operator.mjs";
  port = 8080;
}
