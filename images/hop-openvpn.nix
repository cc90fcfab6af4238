# nix-build images/hop-openvpn.nix  →  result: a docker-archive tarball (docker load < result)
{ pkgs ? import ./nixpkgs.nix { } }:
import ./hop.nix { inherit pkgs; type = "openvpn"; }
