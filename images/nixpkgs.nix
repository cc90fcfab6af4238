# The one pinned nixpkgs all torchain images build from: the NixOS 24.05 release, tag `24.05` =
# commit 63dacb46bf939521bdc93981b4cbb7ecb58427a0 (https://github.com/NixOS/nixpkgs/releases/tag/24.05).
# sha256 is the unpacked-tarball hash (`nix-prefetch-url --unpack <url>`). docs/images.md says how to move the pin.
{ system ? builtins.currentSystem }:
import (builtins.fetchTarball {
  name = "nixpkgs-24.05";
  url = "https://github.com/NixOS/nixpkgs/archive/63dacb46bf939521bdc93981b4cbb7ecb58427a0.tar.gz";
  sha256 = "1lr1h35prqkd1mkmzriwlpvxcb34kmhc9dnr48gkm8hh089hifmx";
}) {
  inherit system;
  config = { };
  overlays = [ ];
}
