#!/usr/bin/env bash
# Captures the real-log corpus: runs real OpenVPN 2.6 and wireguard-go clients and servers in network namespaces this
# script creates (prefix tcx-), provokes each failure scenario, and writes the client's output, unchanged, to
# <outdir>/<scenario>.txt (default log-exporter/fixtures). Run as root: bash log-exporter/corpus/capture.sh [outdir]
# Takes about four minutes. Traffic stays inside the two namespaces; everything created is removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$root/log-exporter/fixtures}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/tcx-corpus.XXXXXX)
CLI=tcx-cli SRV=tcx-srv
SRV_IP=10.213.0.1 CLI_IP=10.213.0.2
pids=()
log() { printf '[capture] %s\n' "$*" >&2; }

cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  ip netns del "$CLI" 2>/dev/null
  ip netns del "$SRV" 2>/dev/null
  rm -rf "/etc/netns/$CLI" "$work"
  rm -f /var/run/wireguard/tcxwgc0.sock /var/run/wireguard/tcxwgs0.sock
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { log "run as root (network namespaces)"; exit 1; }
for b in openvpn wireguard-go wg openssl ip nft ping; do
  command -v "$b" >/dev/null || { log "$b is missing: run bash scripts/prereqs.sh"; exit 1; }
done

# ---------------------------------------------------------------------------------------------------------------- PKI
pki() {
  cd "$work"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  for ca in ca rogue-ca; do
    openssl req -x509 "${ec[@]}" -keyout "$ca.key" -out "$ca.crt" -days 3650 -subj "/CN=tcx-$ca" 2>/dev/null
  done
  sign() { # name ca eku
    openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=tcx-$1" 2>/dev/null
    printf 'extendedKeyUsage=%s\nkeyUsage=digitalSignature,keyAgreement\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -out "$1.crt" -days 3650 \
      -extfile "$1.ext" 2>/dev/null
  }
  sign server ca serverAuth
  sign client ca clientAuth
  sign rogue-server rogue-ca serverAuth
  printf 'tcx-user\ntcx-wrong-password\n' >creds.txt
  printf '#!/bin/sh\n# Rejects every user: the AUTH_FAILED scenario.\nexit 1\n' >deny.sh
  chmod 0755 deny.sh
  chmod 0600 ./*.key creds.txt
  cd - >/dev/null
}

# ------------------------------------------------------------------------------------------------------------ network
net_up() {
  ip netns add "$CLI"
  ip netns add "$SRV"
  ip link add tcxc0 netns "$CLI" type veth peer name tcxs0 netns "$SRV"
  ip -n "$CLI" addr add "$CLI_IP/24" dev tcxc0
  ip -n "$SRV" addr add "$SRV_IP/24" dev tcxs0
  for ns in "$CLI" "$SRV"; do
    ip -n "$ns" link set lo up
  done
  ip -n "$CLI" link set tcxc0 up
  ip -n "$SRV" link set tcxs0 up
  # The client's resolver is an address in the server namespace where nothing listens: lookups fail fast and no
  # query leaves the namespaces. (ip netns exec bind-mounts /etc/netns/<ns>/resolv.conf.)
  mkdir -p "/etc/netns/$CLI"
  printf 'nameserver %s\n' "$SRV_IP" >"/etc/netns/$CLI/resolv.conf"
}

start() { # log-file ns cmd... (sets LAST_PID; ip netns exec execs the command, so it is the command's pid)
  local file=$1 ns=$2
  shift 2
  ip netns exec "$ns" "$@" >>"$file" 2>&1 &
  LAST_PID=$!
  pids+=("$LAST_PID")
}

stop() { # pid [signal]
  kill -"${2:-KILL}" "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

wait_for() { # file text seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  log "timed out waiting for '$2' in $1"
  return 1
}

# ------------------------------------------------------------------------------------------------------------ OpenVPN
ovpn_server_conf() { # proto cert [extra...]
  local proto=$1 cert=$2
  shift 2
  cat <<CONF
dev tun
topology subnet
server 10.214.0.0 255.255.255.0
proto $proto
local $SRV_IP
port 1194
ca $work/ca.crt
cert $work/$cert.crt
key $work/$cert.key
dh none
keepalive 2 10
verb 3
$(printf '%s\n' "$@")
CONF
}

ovpn_client_conf() { # proto remote [extra...]
  local proto=$1 remote=$2
  shift 2
  cat <<CONF
client
dev tun
proto $proto
remote $remote 1194
nobind
ca $work/ca.crt
cert $work/client.crt
key $work/client.key
remote-cert-tls server
verb 3
connect-retry 1 1
ping 2
ping-restart 10
hand-window 10
$(printf '%s\n' "$@")
CONF
}

# scenario name; server conf (or empty); client conf; format flag; action
ovpn_scenario() {
  local name=$1 server_conf=$2 client_conf=$3 format=$4 action=$5
  local file="$out/$name.txt" spid="" cpid
  # shellcheck disable=SC2053 # $only is a glob
  [[ $name == $only ]] || return 0
  : >"$file"
  log "scenario $name"
  if [ -n "$server_conf" ]; then
    printf '%s\n' "$server_conf" >"$work/server.conf"
    start "$work/server-$name.log" "$SRV" openvpn --config "$work/server.conf"
    spid=$LAST_PID
    wait_for "$work/server-$name.log" 'Initialization Sequence Completed' 10
  fi
  printf '%s\n' "$client_conf" >"$work/client.conf"
  # shellcheck disable=SC2086 # $format is zero or one flag
  start "$file" "$CLI" openvpn --config "$work/client.conf" $format
  cpid=$LAST_PID
  case $action in
    healthy)
      wait_for "$file" 'Initialization Sequence Completed' 15
      ip netns exec "$CLI" ping -c 3 -i 0.5 -W 1 10.214.0.1 >/dev/null
      sleep 3 ;;
    kill-server)
      wait_for "$file" 'Initialization Sequence Completed' 15
      sleep 2
      stop "$spid"
      spid=""
      sleep 14 ;;
    drop)
      wait_for "$file" 'Initialization Sequence Completed' 15
      sleep 2
      ip netns exec "$SRV" nft -f - <<'NFT'
table inet tcxdrop {
  chain input { type filter hook input priority 0; policy accept; udp dport 1194 drop; tcp dport 1194 drop; }
  chain output { type filter hook output priority 0; policy accept; udp sport 1194 drop; tcp sport 1194 drop; }
}
NFT
      sleep 26
      ip netns exec "$SRV" nft delete table inet tcxdrop ;;
    wait-exit)
      for ((i = 0; i < 150; i++)); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done ;;
    *) sleep "$action" ;;
  esac
  # SIGKILL: the log ends as the scenario left it, without the client's own exit lines.
  stop "$cpid"
  [ -n "$spid" ] && stop "$spid"
  return 0
}

openvpn_scenarios() {
  local udp_server tcp_server
  udp_server=$(ovpn_server_conf udp server)
  tcp_server=$(ovpn_server_conf tcp-server server)
  ovpn_scenario openvpn-healthy "$udp_server" "$(ovpn_client_conf udp $SRV_IP)" "" healthy
  ovpn_scenario openvpn-healthy-suppress-timestamps "$udp_server" "$(ovpn_client_conf udp $SRV_IP)" \
    --suppress-timestamps healthy
  ovpn_scenario openvpn-healthy-machine-readable "$udp_server" "$(ovpn_client_conf udp $SRV_IP)" \
    --machine-readable-output healthy
  ovpn_scenario openvpn-server-killed "$udp_server" "$(ovpn_client_conf udp $SRV_IP)" "" kill-server
  ovpn_scenario openvpn-tcp-server-killed "$tcp_server" "$(ovpn_client_conf tcp-client $SRV_IP)" \
    --machine-readable-output kill-server
  ovpn_scenario openvpn-no-server "" "$(ovpn_client_conf udp $SRV_IP)" "" 8
  ovpn_scenario openvpn-tcp-refused "" "$(ovpn_client_conf tcp-client $SRV_IP)" --suppress-timestamps 8
  ovpn_scenario openvpn-wrong-certificate "$(ovpn_server_conf udp rogue-server)" "$(ovpn_client_conf udp $SRV_IP)" \
    "" 8
  ovpn_scenario openvpn-network-unreachable "" "$(ovpn_client_conf udp 10.99.0.1)" "" 6
  ovpn_scenario openvpn-resolve-failed "" "$(ovpn_client_conf udp vpn.tcx-nonexistent.invalid)" "" 6
  ovpn_scenario openvpn-packets-dropped "$udp_server" "$(ovpn_client_conf udp $SRV_IP)" "" drop
  ovpn_scenario openvpn-auth-failed \
    "$(ovpn_server_conf udp server 'script-security 2' "auth-user-pass-verify $work/deny.sh via-file")" \
    "$(ovpn_client_conf udp $SRV_IP "auth-user-pass $work/creds.txt")" "" wait-exit
}

# ---------------------------------------------------------------------------------------------------------- WireGuard
wg_go() { # ns ifname logfile
  start "$3" "$1" env LOG_LEVEL=verbose WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f "$2"
}

wait_if() { # ns ifname
  for ((i = 0; i < 50; i++)); do ip -n "$1" link show "$2" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "interface $2 did not appear in $1"
  return 1
}

# scenario name; endpoint; action
wg_scenario() {
  local name=$1 endpoint=$2 action=$3
  local file="$out/$name.txt" spid cpid ppid=""
  # shellcheck disable=SC2053 # $only is a glob
  [[ $name == $only ]] || return 0
  : >"$file"
  log "scenario $name"
  (umask 077 && wg genkey >"$work/wgs.key" && wg genkey >"$work/wgc.key")
  wg_go "$SRV" tcxwgs0 "$work/server-$name.log"
  spid=$LAST_PID
  wait_if "$SRV" tcxwgs0
  ip netns exec "$SRV" wg set tcxwgs0 listen-port 51820 private-key "$work/wgs.key" \
    peer "$(wg pubkey <"$work/wgc.key")" allowed-ips 10.215.0.2/32
  ip -n "$SRV" addr add 10.215.0.1/24 dev tcxwgs0
  ip -n "$SRV" link set tcxwgs0 up
  wg_go "$CLI" tcxwgc0 "$file"
  cpid=$LAST_PID
  wait_if "$CLI" tcxwgc0
  # As the hop entrypoint does: wg's own errors go to the same log. wg retries a temporary resolver failure for
  # minutes; 12 s of it is enough.
  ip netns exec "$CLI" timeout 12 wg set tcxwgc0 private-key "$work/wgc.key" \
    peer "$(wg pubkey <"$work/wgs.key")" endpoint "$endpoint" allowed-ips 10.215.0.0/24 persistent-keepalive 5 \
    >>"$file" 2>&1 || true
  ip -n "$CLI" addr add 10.215.0.2/24 dev tcxwgc0
  ip -n "$CLI" link set tcxwgc0 up
  case $action in
    healthy)
      ip netns exec "$CLI" ping -c 3 -i 0.5 -W 2 10.215.0.1 >/dev/null
      sleep 7 ;;
    kill-server-traffic | kill-server-idle)
      ip netns exec "$CLI" ping -c 2 -i 0.5 -W 2 10.215.0.1 >/dev/null
      stop "$spid"
      spid=""
      if [ "$action" = kill-server-traffic ]; then
        start /dev/null "$CLI" ping -i 1 -W 1 10.215.0.1
        ppid=$LAST_PID
      fi
      sleep 32 ;;
    unreachable)
      start /dev/null "$CLI" ping -i 1 -W 1 10.215.0.1
      ppid=$LAST_PID
      sleep 12 ;;
    *) sleep "$action" ;;
  esac
  [ -n "$ppid" ] && stop "$ppid"
  stop "$cpid"
  [ -n "$spid" ] && stop "$spid"
  rm -f /var/run/wireguard/tcxwgc0.sock /var/run/wireguard/tcxwgs0.sock
  ip -n "$CLI" link del tcxwgc0 2>/dev/null || true
  ip -n "$SRV" link del tcxwgs0 2>/dev/null || true
}

wireguard_scenarios() {
  wg_scenario wireguard-healthy "$SRV_IP:51820" healthy
  wg_scenario wireguard-server-killed-traffic "$SRV_IP:51820" kill-server-traffic
  wg_scenario wireguard-server-killed-idle "$SRV_IP:51820" kill-server-idle
  wg_scenario wireguard-network-unreachable "10.99.0.1:51820" unreachable
  wg_scenario wireguard-resolve-failed "vpn.tcx-nonexistent.invalid:51820" 4
}

# TCX_CAPTURE_ONLY: a glob of scenario names to capture (default all), e.g. 'openvpn-*' or 'wireguard-healthy'.
only=${TCX_CAPTURE_ONLY:-*}
pki
net_up
openvpn_scenarios
wireguard_scenarios
log "captured into $out: $(cd "$out" && ls ./*.txt | wc -l) logs"
