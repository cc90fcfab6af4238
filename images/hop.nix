# The hop image (the `vpn` container), one per VPN type: images/hop/entrypoint.sh and exactly what it runs.
# The entrypoint is a bash script (it sets routes, the nftables kill switch and rewrites the client config before
# starting the client), so this image carries bash and coreutils (rm, sleep); nothing else beyond iproute2,
# nftables and the VPN client. It runs as uid 0 because Linux capabilities are only effective for root without
# file capabilities: the pod drops every capability but NET_ADMIN and is not privileged.
{ pkgs ? import ./nixpkgs.nix { }, type }:
assert type == "openvpn" || type == "wireguard";
let
  lib = pkgs.lib;
  # The systemd integration (sd_notify, resolved scripts) is useless in a container and would pull systemd in.
  openvpn = pkgs.openvpn.override { useSystemd = false; };
  # Only the `wg` binary: wireguard-tools also ships wg-quick and its wrappers (iptables, openresolv, procps).
  wg = pkgs.runCommand "wg-${pkgs.wireguard-tools.version}" { } ''
    install -Dm755 ${pkgs.wireguard-tools}/bin/wg $out/bin/wg
  '';
  client = if type == "openvpn" then [ openvpn ] else [ pkgs.wireguard-go wg ];
  runtime = [ pkgs.bash pkgs.coreutils pkgs.iproute2 pkgs.nftables ] ++ client;
  entrypoint = pkgs.runCommand "torchain-hop-entrypoint" { } ''
    install -Dm755 ${./hop/entrypoint.sh} $out/bin/torchain-hop-entrypoint
  '';
in
pkgs.dockerTools.buildLayeredImage {
  name = "torchain/hop-${type}";
  tag = "0.1.0";
  # No `contents`: the closure of the config below (bash, the tools on PATH, the script) is the whole image.
  extraCommands = ''
    mkdir -p tmp var/run/wireguard
    chmod 1777 tmp
  '';
  config = {
    Entrypoint = [ "${pkgs.bash}/bin/bash" "${entrypoint}/bin/torchain-hop-entrypoint" ];
    Env = [
      "PATH=${lib.makeBinPath runtime}"
      "TORCHAIN_TYPE=${type}"
      "TORCHAIN_TMP_DIR=/tmp"
    ];
    User = "0:0";
    Labels = {
      "org.opencontainers.image.title" = "torchain hop (${type})";
    };
  };
}
