#!/usr/bin/env bash
# Captures the real-log corpus: runs real OpenVPN 2.6, wireguard-go and OpenConnect (ocserv) clients and servers in
# network namespaces this script creates (prefix tkd-), provokes each failure scenario, and writes the client's
# output, unchanged, to <outdir>/<scenario>.txt (default log-exporter/fixtures).
# Run as root: bash log-exporter/corpus/capture.sh [outdir]. Takes about eight minutes. Traffic stays inside the two
# namespaces; everything created is removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$root/log-exporter/fixtures}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/tkd-corpus.XXXXXX)
CLI=tkd-cli SRV=tkd-srv
SRV_IP=10.213.0.1 CLI_IP=10.213.0.2
pids=()
log() { printf '[capture] %s\n' "$*" >&2; }

cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  # ocserv forks workers: everything still running in our own namespaces is ours.
  for ns in "$CLI" "$SRV"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  done
  wait 2>/dev/null
  ip netns del "$CLI" 2>/dev/null
  ip netns del "$SRV" 2>/dev/null
  rm -rf "/etc/netns/$CLI" "$work"
  rm -f /var/run/wireguard/tkdwgc0.sock /var/run/wireguard/tkdwgs0.sock
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { log "run as root (network namespaces)"; exit 1; }
for b in openvpn wireguard-go wg openssl certtool ocserv ocpasswd openconnect busybox ip nft ping; do
  command -v "$b" >/dev/null || { log "$b is missing: run bash scripts/prereqs.sh"; exit 1; }
done

# ---------------------------------------------------------------------------------------------------------------- PKI
pki() {
  cd "$work"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  for ca in ca rogue-ca; do
    openssl req -x509 "${ec[@]}" -keyout "$ca.key" -out "$ca.crt" -days 3650 -subj "/CN=tkd-$ca" 2>/dev/null
  done
  sign() { # name ca eku [subjectAltName]
    openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=tkd-$1" 2>/dev/null
    printf 'extendedKeyUsage=%s\nkeyUsage=digitalSignature,keyAgreement\n' "$3" >"$1.ext"
    [ -z "${4:-}" ] || printf 'subjectAltName=%s\n' "$4" >>"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -out "$1.crt" -days 3650 \
      -extfile "$1.ext" 2>/dev/null
  }
  local san="IP:$SRV_IP,DNS:vpn.tkd.test"
  sign server ca serverAuth "$san"
  sign client ca clientAuth
  sign rogue-server rogue-ca serverAuth "$san"
  sign rogue-client rogue-ca clientAuth
  # A server certificate for another name (OpenConnect checks the host name; OpenVPN only with --verify-x509-name).
  sign other-server ca serverAuth DNS:other.tkd.test
  # A server certificate that expired in 2021 (openssl x509 cannot back-date; certtool's template can).
  openssl req "${ec[@]}" -keyout expired-server.key -out /dev/null -subj /CN=tkd-expired-server 2>/dev/null
  printf '%s\n' 'cn = "tkd-expired-server"' "ip_address = \"$SRV_IP\"" 'tls_www_server' 'signing_key' \
    'activation_date = "2020-01-01 00:00:00"' 'expiration_date = "2021-01-01 00:00:00"' >expired.tmpl
  certtool --generate-certificate --load-privkey expired-server.key --load-ca-certificate ca.crt \
    --load-ca-privkey ca.key --template expired.tmpl --outfile expired-server.crt >/dev/null 2>&1
  # --peer-fingerprint mode: the fingerprint of a certificate the server does not present.
  openssl x509 -in rogue-server.crt -noout -fingerprint -sha256 | sed 's/^.*=//' >wrong-fingerprint.txt
  # OpenConnect's password file (ocserv "plain" auth) and the client's stdin for --passwd-on-stdin.
  printf 'tkd-password\ntkd-password\n' | ocpasswd -c "$work/ocpasswd" tkd-user
  printf 'tkd-password\n' >oc-good.txt
  printf 'tkd-wrong-password\n' >oc-bad.txt
  # Not a TLS server: answers anything with a line of HTTP (the "server that is not TLS" scenarios).
  printf '#!/bin/sh\nprintf "HTTP/1.0 400 Bad Request\\r\\n\\r\\nnot a VPN server\\n"\nsleep 1\n' >not-tls.sh
  # OpenConnect's tun script: the tunnel address and MTU only (vpnc-script would also rewrite DNS and routes).
  cat >oc-tun.sh <<'SCRIPT'
#!/bin/sh
case "$reason" in
  connect | reconnect)
    ip link set dev "$TUNDEV" up mtu "${INTERNAL_IP4_MTU:-1300}"
    ip addr replace "$INTERNAL_IP4_ADDRESS/${INTERNAL_IP4_NETMASKLEN:-32}" dev "$TUNDEV" ;;
esac
exit 0
SCRIPT
  chmod 0755 not-tls.sh oc-tun.sh
  printf 'tkd-user\ntkd-wrong-password\n' >creds.txt
  printf '#!/bin/sh\n# Rejects every user: the AUTH_FAILED scenario.\nexit 1\n' >deny.sh
  chmod 0755 deny.sh
  chmod 0600 ./*.key creds.txt oc-*.txt
  cd - >/dev/null
}

# ------------------------------------------------------------------------------------------------------------ network
net_up() {
  ip netns add "$CLI"
  ip netns add "$SRV"
  ip link add tkdc0 netns "$CLI" type veth peer name tkds0 netns "$SRV"
  ip -n "$CLI" addr add "$CLI_IP/24" dev tkdc0
  ip -n "$SRV" addr add "$SRV_IP/24" dev tkds0
  for ns in "$CLI" "$SRV"; do
    ip -n "$ns" link set lo up
  done
  ip -n "$CLI" link set tkdc0 up
  ip -n "$SRV" link set tkds0 up
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
  if [ "$server_conf" = not-tls ]; then
    start "$work/server-$name.log" "$SRV" busybox nc -ll -p 1194 -e "$work/not-tls.sh"
    spid=$LAST_PID
    sleep 0.5
  elif [ -n "$server_conf" ]; then
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
table inet tkddrop {
  chain input { type filter hook input priority 0; policy accept; udp dport 1194 drop; tcp dport 1194 drop; }
  chain output { type filter hook output priority 0; policy accept; udp sport 1194 drop; tcp sport 1194 drop; }
}
NFT
      sleep 26
      ip netns exec "$SRV" nft delete table inet tkddrop ;;
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
  ovpn_scenario openvpn-resolve-failed "" "$(ovpn_client_conf udp vpn.tkd-nonexistent.invalid)" "" 6
  ovpn_scenario openvpn-packets-dropped "$udp_server" "$(ovpn_client_conf udp $SRV_IP)" "" drop
  # Every way OpenVPN 2.6 verifies the server certificate, each failing (certificate_rejected), and TLS handshakes
  # that fail without a certificate verdict (tls_handshake_failed). The client retries until it is killed.
  local fp
  fp=$(cat "$work/wrong-fingerprint.txt")
  ovpn_scenario openvpn-verify-x509-name "$udp_server" \
    "$(ovpn_client_conf udp $SRV_IP 'verify-x509-name tkd-other-server name')" "" 8
  ovpn_scenario openvpn-remote-cert-tls "$(ovpn_server_conf udp client)" "$(ovpn_client_conf udp $SRV_IP)" "" 8
  ovpn_scenario openvpn-peer-fingerprint "$udp_server" \
    "$(ovpn_client_conf udp $SRV_IP "peer-fingerprint $fp" | grep -v '^ca ')" "" 8
  ovpn_scenario openvpn-tls-verify-script "$udp_server" \
    "$(ovpn_client_conf udp $SRV_IP 'script-security 2' "tls-verify $work/deny.sh")" "" 8
  ovpn_scenario openvpn-expired-certificate "$(ovpn_server_conf udp expired-server)" \
    "$(ovpn_client_conf udp $SRV_IP)" "" 8
  ovpn_scenario openvpn-client-certificate-rejected "$udp_server" \
    "$(ovpn_client_conf udp $SRV_IP | sed "s#^cert .*#cert $work/rogue-client.crt#; s#^key .*#key $work/rogue-client.key#")" \
    "" 14
  # The server drops a UDP handshake it refuses without telling the client: only hand-window (10 s) ends it.
  ovpn_scenario openvpn-tls-version "$(ovpn_server_conf udp server 'tls-version-max 1.2')" \
    "$(ovpn_client_conf udp $SRV_IP 'tls-version-min 1.3')" "" 14
  # Over TCP the server's TLS alert reaches the client.
  ovpn_scenario openvpn-tcp-client-certificate-rejected "$tcp_server" \
    "$(ovpn_client_conf tcp-client $SRV_IP | sed "s#^cert .*#cert $work/rogue-client.crt#; s#^key .*#key $work/rogue-client.key#")" \
    --suppress-timestamps 8
  ovpn_scenario openvpn-tcp-tls-version "$(ovpn_server_conf tcp-server server 'tls-version-max 1.2')" \
    "$(ovpn_client_conf tcp-client $SRV_IP 'tls-version-min 1.3')" "" 8
  ovpn_scenario openvpn-not-tls not-tls "$(ovpn_client_conf tcp-client $SRV_IP)" "" 8
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
  wg_go "$SRV" tkdwgs0 "$work/server-$name.log"
  spid=$LAST_PID
  wait_if "$SRV" tkdwgs0
  ip netns exec "$SRV" wg set tkdwgs0 listen-port 51820 private-key "$work/wgs.key" \
    peer "$(wg pubkey <"$work/wgc.key")" allowed-ips 10.215.0.2/32
  ip -n "$SRV" addr add 10.215.0.1/24 dev tkdwgs0
  ip -n "$SRV" link set tkdwgs0 up
  wg_go "$CLI" tkdwgc0 "$file"
  cpid=$LAST_PID
  wait_if "$CLI" tkdwgc0
  # As the hop entrypoint does: wg's own errors go to the same log. wg retries a temporary resolver failure for
  # minutes; 12 s of it is enough.
  ip netns exec "$CLI" timeout 12 wg set tkdwgc0 private-key "$work/wgc.key" \
    peer "$(wg pubkey <"$work/wgs.key")" endpoint "$endpoint" allowed-ips 10.215.0.0/24 persistent-keepalive 5 \
    >>"$file" 2>&1 || true
  ip -n "$CLI" addr add 10.215.0.2/24 dev tkdwgc0
  ip -n "$CLI" link set tkdwgc0 up
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
  rm -f /var/run/wireguard/tkdwgc0.sock /var/run/wireguard/tkdwgs0.sock
  ip -n "$CLI" link del tkdwgc0 2>/dev/null || true
  ip -n "$SRV" link del tkdwgs0 2>/dev/null || true
}

wireguard_scenarios() {
  wg_scenario wireguard-healthy "$SRV_IP:51820" healthy
  wg_scenario wireguard-server-killed-traffic "$SRV_IP:51820" kill-server-traffic
  wg_scenario wireguard-server-killed-idle "$SRV_IP:51820" kill-server-idle
  wg_scenario wireguard-network-unreachable "10.99.0.1:51820" unreachable
  wg_scenario wireguard-resolve-failed "vpn.tkd-nonexistent.invalid:51820" 4
}

# -------------------------------------------------------------------------------------------------------- OpenConnect
# ocserv 1.1 (AnyConnect protocol) with a short DPD, and the openconnect client as the hop runs it: non-interactive,
# password on stdin, timestamps on every progress line, its own tun script, DPD forced to 2 s.
oc_server_conf() { # cert auth [extra...]
  local cert=$1 auth=$2
  shift 2
  cat <<CONF
auth = "$auth"
listen-host = $SRV_IP
tcp-port = 443
udp-port = 443
socket-file = $work/ocserv.sock
pid-file = $work/ocserv.pid
use-occtl = false
isolate-workers = false
server-cert = $work/$cert.crt
server-key = $work/$cert.key
ca-cert = $work/ca.crt
cert-user-oid = 2.5.4.3
max-clients = 16
max-same-clients = 4
keepalive = 10
dpd = 2
mobile-dpd = 2
switch-to-tcp-timeout = 5
try-mtu-discovery = false
auth-timeout = 30
cookie-timeout = 60
rate-limit-ms = 0
max-ban-score = 0
device = tkdocs
predictable-ips = true
ipv4-network = 10.216.0.0
ipv4-netmask = 255.255.255.0
ping-leases = false
dtls-legacy = true
cisco-client-compat = true
log-level = 1
$(printf '%s\n' "$@")
CONF
}

OC_FLAGS=(--timestamp --non-inter --passwd-on-stdin --user tkd-user --script "$work/oc-tun.sh"
  --interface tkdoctun0 --force-dpd 2 --reconnect-timeout 20)

oc_drop() { # proto:port...: drop them both ways in the server namespace, silently (no ICMP, no RST)
  local rules="" back="" spec
  for spec in "$@"; do
    rules+="${spec%:*} dport ${spec#*:} drop; "
    back+="${spec%:*} sport ${spec#*:} drop; "
  done
  ip netns exec "$SRV" nft -f - <<NFT
table inet tkddrop {
  chain input { type filter hook input priority 0; policy accept; $rules}
  chain output { type filter hook output priority 0; policy accept; $back}
}
NFT
}

oc_server_pids() { ip netns pids "$SRV" 2>/dev/null || true; }

# scenario name; server conf (or empty, or not-tls); stdin file; url; action; extra client flags...
oc_scenario() {
  local name=$1 server_conf=$2 stdin=$3 url=$4 action=$5
  shift 5
  local file="$out/$name.txt" cpid i
  # shellcheck disable=SC2053 # $only is a glob
  [[ $name == $only ]] || return 0
  : >"$file"
  log "scenario $name"
  if [ "$server_conf" = not-tls ]; then
    start "$work/server-$name.log" "$SRV" busybox nc -ll -p 443 -e "$work/not-tls.sh"
    sleep 0.5
  elif [ -n "$server_conf" ]; then
    printf '%s\n' "$server_conf" >"$work/ocserv.conf"
    start "$work/server-$name.log" "$SRV" ocserv -f -c "$work/ocserv.conf"
    wait_for "$work/server-$name.log" 'listening (TCP)' 10
    sleep 0.5
  fi
  [ "$action" = dtls-blocked ] && oc_drop udp:443
  ip netns exec "$CLI" openconnect "${OC_FLAGS[@]}" "$@" "$url" <"$stdin" >>"$file" 2>&1 &
  cpid=$!
  pids+=("$cpid")
  case $action in
    healthy | dtls-blocked)
      wait_for "$file" 'Configured as' 15
      ip netns exec "$CLI" ping -c 3 -i 0.5 -W 2 10.216.0.1 >/dev/null
      sleep 4 ;;
    restart-server)
      wait_for "$file" 'Configured as' 15
      sleep 1
      for i in $(oc_server_pids); do kill -KILL "$i" 2>/dev/null; done
      sleep 4
      start "$work/server-$name.log" "$SRV" ocserv -f -c "$work/ocserv.conf"
      # openconnect retries every 10 s at first: the reconnection comes within about 15 s.
      sleep 18
      ip netns exec "$CLI" ping -c 2 -i 0.5 -W 2 10.216.0.1 >/dev/null || true
      sleep 1 ;;
    kill-server | stop-server | blackhole)
      wait_for "$file" 'Configured as' 15
      ip netns exec "$CLI" ping -c 2 -i 0.5 -W 2 10.216.0.1 >/dev/null
      sleep 1
      case $action in
        # ocserv's main process, sec-mod and the client's worker: all of them, as a crashed pod would.
        kill-server) for i in $(oc_server_pids); do kill -KILL "$i" 2>/dev/null; done ;;
        # Hung server: the kernel still answers TCP, the processes never do.
        stop-server) for i in $(oc_server_pids); do kill -STOP "$i" 2>/dev/null; done ;;
        blackhole) oc_drop tcp:443 udp:443 ;;
      esac
      sleep 25 ;;
    wait-exit)
      for ((i = 0; i < 150; i++)); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done ;;
    *) sleep "$action" ;;
  esac
  stop "$cpid"
  for i in $(oc_server_pids); do kill -KILL "$i" 2>/dev/null; done
  ip netns exec "$SRV" nft delete table inet tkddrop 2>/dev/null || true
  sleep 0.3
  return 0
}

openconnect_scenarios() {
  local plain="plain[passwd=$work/ocpasswd]" url="https://$SRV_IP/" ca=(--cafile "$work/ca.crt")
  oc_scenario openconnect-healthy "$(oc_server_conf server "$plain")" "$work/oc-good.txt" "$url" healthy "${ca[@]}"
  oc_scenario openconnect-dtls-blocked "$(oc_server_conf server "$plain")" "$work/oc-good.txt" "$url" dtls-blocked \
    "${ca[@]}"
  oc_scenario openconnect-server-killed "$(oc_server_conf server "$plain")" "$work/oc-good.txt" "$url" kill-server \
    "${ca[@]}"
  oc_scenario openconnect-server-restarted "$(oc_server_conf server "$plain")" "$work/oc-good.txt" "$url" \
    restart-server "${ca[@]}"
  oc_scenario openconnect-dead-peer "$(oc_server_conf server "$plain")" "$work/oc-good.txt" "$url" stop-server \
    "${ca[@]}"
  oc_scenario openconnect-blackholed "$(oc_server_conf server "$plain")" "$work/oc-good.txt" "$url" blackhole \
    "${ca[@]}"
  oc_scenario openconnect-refused "" "$work/oc-good.txt" "$url" wait-exit "${ca[@]}"
  oc_scenario openconnect-network-unreachable "" "$work/oc-good.txt" "https://10.99.0.1/" wait-exit "${ca[@]}"
  oc_scenario openconnect-resolve-failed "" "$work/oc-good.txt" "https://vpn.tkd-nonexistent.invalid/" wait-exit \
    "${ca[@]}"
  oc_scenario openconnect-auth-failed "$(oc_server_conf server "$plain")" "$work/oc-bad.txt" "$url" wait-exit \
    "${ca[@]}"
  oc_scenario openconnect-client-certificate-rejected "$(oc_server_conf server certificate)" "$work/oc-good.txt" "$url" \
    wait-exit "${ca[@]}" --certificate "$work/rogue-client.crt" --sslkey "$work/rogue-client.key"
  # The server certificate, rejected in each way openconnect verifies it.
  oc_scenario openconnect-unknown-ca "$(oc_server_conf rogue-server "$plain")" "$work/oc-good.txt" "$url" wait-exit \
    "${ca[@]}"
  oc_scenario openconnect-wrong-hostname "$(oc_server_conf other-server "$plain")" "$work/oc-good.txt" "$url" \
    wait-exit "${ca[@]}"
  oc_scenario openconnect-expired-certificate "$(oc_server_conf expired-server "$plain")" "$work/oc-good.txt" "$url" \
    wait-exit "${ca[@]}"
  oc_scenario openconnect-servercert-pin "$(oc_server_conf server "$plain")" "$work/oc-good.txt" "$url" wait-exit \
    --servercert "pin-sha256:$(openssl x509 -in "$work/rogue-server.crt" -pubkey -noout | openssl pkey -pubin \
      -outform der | openssl dgst -sha256 -binary | base64)"
  oc_scenario openconnect-not-tls not-tls "$work/oc-good.txt" "$url" wait-exit "${ca[@]}"
}

# CAPTURE_ONLY: a glob of scenario names to capture (default all), e.g. 'openvpn-*' or 'wireguard-healthy'.
only=${CAPTURE_ONLY:-*}
pki
net_up
openvpn_scenarios
wireguard_scenarios
openconnect_scenarios
log "captured into $out: $(cd "$out" && ls ./*.txt | wc -l) logs"
