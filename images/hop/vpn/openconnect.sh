# shellcheck shell=bash
# OpenConnect hop module (the anyconnect protocol: ocserv, Cisco). Sourced by images/hop/entrypoint.sh (the
# functions it calls are listed there) and, run as a program, openconnect's --script: the entrypoint, not
# vpnc-script, owns routes, DNS and the kill switch, so the script only gives the tunnel its address and MTU.
#
# TORCHAIN_CONFIG is an openconnect --config file prepared by the operator's module
# (operator/src/protocols/openconnect/): the server URL pinned to TORCHAIN_ENDPOINT, a `servercert` pin, DPD; no
# secrets. Beside it, from the same Secret: <config>.cert.pem (client certificate and key) and <config>.password,
# each optional. TORCHAIN_OC_BASE_MTU: the path MTU towards the server, so that it sizes its side of the tunnel
# like ours.

vpn_check() {
  [[ $TORCHAIN_PROTO == tcp || $TORCHAIN_PROTO == tcp,udp || $TORCHAIN_PROTO == udp,tcp ]] ||
    die_config "TORCHAIN_PROTO for openconnect is tcp (TLS) or tcp,udp (TLS and DTLS)" value "$TORCHAIN_PROTO"
  if [[ -n ${TORCHAIN_OC_BASE_MTU:-} ]]; then
    [[ $TORCHAIN_OC_BASE_MTU =~ ^[0-9]{3,5}$ ]] && ((10#$TORCHAIN_OC_BASE_MTU > MTU && 10#$TORCHAIN_OC_BASE_MTU <= 65535)) ||
      die_config "TORCHAIN_OC_BASE_MTU must be an integer above TORCHAIN_MTU" value "$TORCHAIN_OC_BASE_MTU"
  fi
  [[ ! -e $CONFIG.cert.pem || -r $CONFIG.cert.pem ]] || die_config "the client certificate beside TORCHAIN_CONFIG is not readable" path "$CONFIG.cert.pem"
  [[ ! -e $CONFIG.password || -r $CONFIG.password ]] || die_config "the password file beside TORCHAIN_CONFIG is not readable" path "$CONFIG.password"
  [[ -r $CONFIG.cert.pem || -r $CONFIG.password ]] ||
    die_config "no credentials beside TORCHAIN_CONFIG: the Secret must hold <config>.cert.pem and/or <config>.password" path "$CONFIG"
  require_binaries openconnect
}

vpn_endpoints() { endpoints_from_env; }

vpn_tunnel_device() { create_persistent_tun; }

vpn_run() {
  local args=(--config "$CONFIG" --interface "$TUN_IF" --script "bash ${BASH_SOURCE[0]}" --non-inter)
  [[ -n ${TORCHAIN_OC_BASE_MTU:-} ]] && args+=(--base-mtu "$TORCHAIN_OC_BASE_MTU")
  [[ -r $CONFIG.cert.pem ]] && args+=(--certificate "$CONFIG.cert.pem")
  log info "exec openconnect" config "$CONFIG" dtls "$([[ $TORCHAIN_PROTO == *udp* ]] && echo allowed || echo off)"
  # Its progress goes to stdout, its errors to stderr: both are the client's log, on stdout. Our own log lines (and
  # the --script's) keep going to the container's stderr, through fd 3.
  exec 3>&2
  if [[ -r $CONFIG.password ]]; then
    exec openconnect "${args[@]}" --passwd-on-stdin <"$CONFIG.password" 2>&1
  fi
  exec openconnect "${args[@]}" --no-passwd </dev/null 2>&1
}

# --- openconnect's --script (vpnc-script interface), when this file is run rather than sourced -------------------
oc_script() {
  local level msg
  # oc_log LEVEL MESSAGE [KEY VALUE]...
  oc_log() {
    level=$1 msg=$2
    shift 2
    local line
    printf -v line '{"time":"%s","level":"%s","component":"torchain-hop","msg":"%s"' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$level" "$msg"
    while (($# >= 2)); do
      line+=",\"$1\":\"${2//\"/\\\"}\""
      shift 2
    done
    line+=",\"reason\":\"${reason:-}\",\"interface\":\"${TUNDEV:-}\"}"
    { printf '%s\n' "$line" >&3; } 2>/dev/null || printf '%s\n' "$line" >&2
  }
  case ${reason:-} in
    connect | reconnect)
      local want=${TORCHAIN_MTU:-${INTERNAL_IP4_MTU:-1300}} mtu
      mtu=$want
      # The server's side of the tunnel is smaller than ours (another cipher, a smaller link): never send what it
      # cannot take.
      if [[ ${INTERNAL_IP4_MTU:-} =~ ^[0-9]+$ ]] && ((INTERNAL_IP4_MTU < want)); then
        mtu=$INTERNAL_IP4_MTU
        oc_log warn "the server's tunnel MTU $INTERNAL_IP4_MTU is below TORCHAIN_MTU $want: using $mtu; set spec.mtu for this hop and the hops below"
      fi
      # The new address first, then the others go: a device left without an IPv4 address loses every route through
      # it (table 188's default included), and a reconnect would black-hole the hops below for good.
      ip address replace "$INTERNAL_IP4_ADDRESS/32" dev "$TUNDEV"
      local a
      while read -r _ _ _ a _; do
        [[ ${a%/*} == "$INTERNAL_IP4_ADDRESS" ]] || ip address del "$a" dev "$TUNDEV"
      done < <(ip -4 -o address show dev "$TUNDEV")
      ip link set dev "$TUNDEV" mtu "$mtu" up
      oc_log info "tunnel configured: address $INTERNAL_IP4_ADDRESS, mtu $mtu (routes and DNS stay with the hop)"
      # The hop that serves DNS forwards to the resolver(s) the server names (space-separated in INTERNAL_IP4_DNS).
      if [[ ${TORCHAIN_DNS:-0} == 1 ]]; then
        log() { oc_log "$@"; }
        # shellcheck source=../dns-publish.sh
        source "$(dirname "${BASH_SOURCE[0]}")/../dns-publish.sh"
        # shellcheck disable=SC2086 # a list of addresses
        dns_pushed "pushed by the openconnect server" ${INTERNAL_IP4_DNS:-} || oc_log error "could not set the DNS upstream the server pushed"
      fi
      ;;
    *) ;; # pre-init, disconnect, attempt-reconnect: the device, routes and kill switch stay as they are
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  oc_script
fi
