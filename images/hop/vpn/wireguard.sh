# shellcheck shell=bash
# WireGuard hop module (wireguard-go), sourced by images/hop/entrypoint.sh (the functions it calls are listed there).
# TORCHAIN_CONFIG is in `wg setconf` syntax, prepared by the operator's module (operator/src/protocols/wireguard/):
# the wg-quick-only keys are out (their hooks are never run) and the one peer's Endpoint is TORCHAIN_ENDPOINT.
# TORCHAIN_WG_ADDRESSES holds the tunnel addresses (comma-separated address/prefix).
readonly WG_SOCK_DIR=/var/run/wireguard

vpn_check() {
  [[ $TORCHAIN_PROTO == udp ]] || die_config "TORCHAIN_PROTO=$TORCHAIN_PROTO but WireGuard is UDP only; set TORCHAIN_PROTO=udp"
  require TORCHAIN_WG_ADDRESSES
  IFS=, read -ra WG_ADDRESSES <<<"$TORCHAIN_WG_ADDRESSES"
  local a
  for a in "${WG_ADDRESSES[@]}"; do
    [[ $a =~ ^[0-9A-Fa-f:.]+/[0-9]{1,3}$ ]] || die_config "TORCHAIN_WG_ADDRESSES must be comma-separated address/prefix" value "$a"
  done
  require_binaries wireguard-go wg
}

vpn_endpoints() { endpoints_from_env; }

vpn_tunnel_device() { create_persistent_tun; }

vpn_run() {
  # wireguard-go in the foreground (its log on our stdout), configured through its UAPI socket, which is global on
  # the host: TUN_IF must be unique per host.
  local sock=$WG_SOCK_DIR/$TUN_IF.sock wg_pid rc=0 i
  rm -f "$sock" # a previous instance that was killed leaves its socket behind
  WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 LOG_LEVEL=${TORCHAIN_WG_LOG_LEVEL:-verbose} wireguard-go -f "$TUN_IF" &
  wg_pid=$!
  trap 'kill -TERM "$wg_pid" 2>/dev/null' TERM INT
  for ((i = 0; i < 100; i++)); do
    [[ -S $sock ]] && break
    kill -0 "$wg_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! -S $sock ]]; then
    kill -TERM "$wg_pid" 2>/dev/null || true
    die "wireguard-go did not open its control socket" socket "$sock"
  fi
  if ! wg_configure; then
    kill -TERM "$wg_pid" 2>/dev/null || true
    die "could not configure wireguard-go with TORCHAIN_CONFIG" path "$CONFIG"
  fi
  log info "wireguard configured" interface "$TUN_IF" addresses "$TORCHAIN_WG_ADDRESSES"
  wait "$wg_pid" || rc=$?
  # `wait` returns early when a trapped signal arrives: wait for the daemon to finish.
  while kill -0 "$wg_pid" 2>/dev/null; do wait "$wg_pid" || rc=$?; done
  log info "wireguard-go exited" status "$rc"
  exit "$rc"
}

wg_configure() {
  wg setconf "$TUN_IF" "$CONFIG" || return 1
  local a
  for a in "${WG_ADDRESSES[@]}"; do
    ip address replace "$a" dev "$TUN_IF" || return 1
  done
  # wireguard-go sets its default MTU (1420) on start: set ours again.
  ip link set dev "$TUN_IF" mtu "$MTU" up
}
