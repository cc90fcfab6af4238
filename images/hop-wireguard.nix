# nix-build images/hop-wireguard.nix  →  result: a docker-archive tarball (docker load < result)
# Userspace WireGuard (wireguard-go): the hop does not depend on the node's kernel module.
{ pkgs ? import ./nixpkgs.nix { } }:
import ./hop.nix { inherit pkgs; type = "wireguard"; }
