# The one pinned nixpkgs all torchain images build from with Nix: the nixos-25.11 branch at commit
# 8fd9daa3db09ced9700431c5b7ad0e8ba199b575 (2026-05-10), which has nodejs_24. sha256 is the unpacked-tarball
# (NAR) hash, the flake narHash sha256-Ti+ZBvW6yrWWAg2szExVTwCd4qOJ3KlVr1tFHfyfi8Q= in Nix's base-32.
# docs/images.md says how to move the pin.
{ system ? builtins.currentSystem }:
import (builtins.fetchTarball {
  name = "nixpkgs-25.11";
  url = "https://github.com/NixOS/nixpkgs/archive/8fd9daa3db09ced9700431c5b7ad0e8ba199b575.tar.gz";
  sha256 = "1i4bkzy1siavmxaskp49lgi9s02gam6crb0d0abbbjmsyl39jbsf";
}) {
  inherit system;
  config = { };
  overlays = [ ];
}
