# All images: nix-build images -A hop-openvpn (or hop-wireguard, log-exporter, operator); nix-build images builds all.
{ system ? builtins.currentSystem }:
let pkgs = import ./nixpkgs.nix { inherit system; };
in {
  hop-openvpn = import ./hop-openvpn.nix { inherit pkgs; };
  hop-wireguard = import ./hop-wireguard.nix { inherit pkgs; };
  log-exporter = import ./log-exporter.nix { inherit pkgs; };
  operator = import ./operator.nix { inherit pkgs; };
}
