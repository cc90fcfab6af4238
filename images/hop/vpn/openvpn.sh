# shellcheck shell=bash
# OpenVPN hop module, sourced by images/hop/entrypoint.sh (the functions it calls are listed there).
# TORCHAIN_CONFIG is the config the operator's module prepared (operator/src/protocols/openvpn/): exactly one
# `remote` (the kill switch's endpoint) and none of the directives the hop decides; the command line below decides
# those (device, MTU, routes) and wins over the file anyway. On the hop that serves DNS, vpn/openvpn-up.sh picks up
# the resolver the server pushes.

vpn_check() {
  [[ ${#PROTOS[@]} -eq 1 ]] || die_config "TORCHAIN_PROTO for openvpn is udp or tcp, one of them" value "$TORCHAIN_PROTO"
  require_binaries openvpn
}

vpn_endpoints() { endpoints_from_env; }

vpn_tunnel_device() { create_persistent_tun; }

vpn_run() {
  # OpenVPN 2.6 servers push their own tun-mtu; ours is computed for the chain, so the push is ignored.
  # --persist-tun: on its own restarts (ping-restart, connection refused) OpenVPN would otherwise set the device
  # down, and the kernel deletes every route through a device that goes down (our table-188 default included).
  # --script-security 1: no user scripts, whatever the file says.
  # --connect-retry 1 2: a hop below a failed one keeps retrying every 1-2 s instead of backing off to 8, 16… 300 s,
  # so it reconnects within seconds of the hop above recovering (the backoff was most of a failover's reconnect time).
  # --connect-timeout 4: within one attempt OpenVPN re-sends its first packet after 2, 4, 8… s and waits 120 s for an
  # answer; a hop below a failed one then got through only at the re-send 14 s into its attempt (8 s of most hop-2
  # failovers in the bench). A fresh attempt every 4 s plus the 1-2 s pause keeps the gaps at 2-4 s. The 4 s are for
  # the server's first answer only (not the whole TLS handshake): many round trips, even through a long chain.
  local security=(--script-security 1)
  # The hop that serves DNS learns the resolver the server pushes from its own --up script (after every restart:
  # --up-restart), run with an environment of OpenVPN's making: hence --setenv. Scripts of the config itself cannot
  # run: the operator's module takes every script directive out (operator/src/protocols/openvpn).
  if [[ $DNS == 1 && ${#DNS_SERVERS[@]} -eq 0 ]]; then
    security=(--script-security 2 --up "$BASH $HOP_DIR/vpn/openvpn-up.sh" --up-restart
      --setenv PATH "$PATH" --setenv TORCHAIN_DNS 1 --setenv TORCHAIN_DNS_DIR "$TORCHAIN_DNS_DIR"
      --setenv TORCHAIN_TUN_IF "$TUN_IF")
  fi
  log info "exec openvpn" config "$CONFIG"
  exec openvpn --config "$CONFIG" --dev "$TUN_IF" --dev-type tun --tun-mtu "$MTU" --pull-filter ignore tun-mtu \
    --route-noexec --persist-tun "${security[@]}" --connect-retry 1 2 --connect-timeout 4
}
