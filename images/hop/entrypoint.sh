#!/usr/bin/env bash
# torchain hop entrypoint: the `vpn` container of a hop pod (and the lab's hop process) runs this.
#
# From the TORCHAIN_* environment (docs/dataplane.md has the full contract) it
#   1. checks every input and stops with a clear error before changing anything;
#   2. installs the kill switch (nftables table `inet torchain`, one atomic transaction): nothing leaves
#      TORCHAIN_OUT_IF except this hop's tunnel packets to its server endpoint, and forwarded client traffic may
#      only leave through the tunnel; plus NAT into the tunnel and TCP MSS clamping to the tunnel MTU;
#   3. enables forwarding (only now, behind the kill switch);
#   4. creates the tunnel interface as a *persistent* tun device with the given MTU, routes forwarded traffic from
#      TORCHAIN_IN_IF into it (policy routing table 188) and the server endpoint through TORCHAIN_OUT_IF;
#   5. runs the VPN client in the foreground, its output on stdout unchanged: `openvpn` (exec'd) or wireguard-go
#      (-f) configured with `wg setconf` from the wg-quick style config minus the wg-quick-only keys.
#
# Nothing is undone on exit: the kill switch, routes and tun device stay while the client restarts or the
# container is restarted, so a dead client black-holes traffic instead of leaking it. Everything is replaced
# atomically on the next start (with a new server endpoint if the config changed).
#
# Needs CAP_NET_ADMIN only (inside the pod's network namespace), bash, iproute2, nftables, and openvpn or
# wireguard-go + wg. Own log lines are JSON on stderr; stdout carries only the VPN client's output.
set -Eeuo pipefail

readonly NFT_TABLE=torchain
readonly ROUTE_TABLE=188 # policy routing table for traffic entering on TORCHAIN_IN_IF
readonly ROUTE_PROTO=73 # marks the routes this script owns (unassigned in iproute2's rt_protos)
readonly RULE_PREF=188
readonly WG_SOCK_DIR=/var/run/wireguard
readonly EX_CONFIG=64 # bad input: fix the environment or the config, a restart will not help

json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '%s' "$s"
}

# log LEVEL MESSAGE [KEY VALUE]... : one JSON object per line on stderr.
log() {
  local level=$1 msg=$2 ts line
  shift 2
  TZ=UTC printf -v ts '%(%Y-%m-%dT%H:%M:%SZ)T' -1
  line="{\"time\":\"$ts\",\"level\":\"$level\",\"component\":\"torchain-hop\",\"msg\":\"$(json_escape "$msg")\""
  while (($# >= 2)); do
    line+=",\"$1\":\"$(json_escape "$2")\""
    shift 2
  done
  printf '%s}\n' "$line" >&2
}

die_config() {
  log error "$@"
  exit "$EX_CONFIG"
}

die() {
  log error "$@"
  exit 1
}

trap 'die "unexpected failure" command "$BASH_COMMAND" line "$LINENO"' ERR

# ---------------------------------------------------------------------------------------------------------------
# 1. Inputs. Every check happens before the first change.
# ---------------------------------------------------------------------------------------------------------------

require() {
  local name=$1
  [[ -n ${!name:-} ]] || die_config "$name is not set; the operator (or the lab) must set it, see docs/dataplane.md" variable "$name"
}

valid_ifname() {
  # Linux allows more, but these names go into nftables strings and ip arguments: keep them plain.
  [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,14}$ ]]
}

valid_ipv4() {
  local ip=$1 o
  [[ $ip =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
  for o in "${BASH_REMATCH[@]:1}"; do
    ((10#$o <= 255)) || return 1
  done
}

valid_ipv6() {
  local ip=$1
  [[ $ip =~ ^[0-9A-Fa-f:.]+$ && $ip == *:*:* && ${#ip} -le 45 ]]
}

valid_port() {
  [[ $1 =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535))
}

for v in TORCHAIN_TYPE TORCHAIN_CONFIG TORCHAIN_ENDPOINT TORCHAIN_PROTO TORCHAIN_OUT_IF TORCHAIN_IN_IF TORCHAIN_MTU TORCHAIN_TUN_IF; do
  require "$v"
done
TYPE=$TORCHAIN_TYPE
CONFIG=$TORCHAIN_CONFIG
PROTO=$TORCHAIN_PROTO
OUT_IF=$TORCHAIN_OUT_IF
IN_IF=$TORCHAIN_IN_IF
TUN_IF=$TORCHAIN_TUN_IF
MTU=$TORCHAIN_MTU
TMP_DIR=${TORCHAIN_TMP_DIR:-/tmp}
TUNNEL_ROUTES=${TORCHAIN_TUNNEL_ROUTES:-}
GATEWAY=${TORCHAIN_GATEWAY:-}
OUT_GATEWAY=${TORCHAIN_OUT_GATEWAY:-}

case $TYPE in
  openvpn | wireguard) ;;
  *) die_config "TORCHAIN_TYPE must be openvpn or wireguard" value "$TYPE" ;;
esac
case $PROTO in
  udp | tcp) ;;
  *) die_config "TORCHAIN_PROTO must be udp or tcp" value "$PROTO" ;;
esac
[[ $TYPE == wireguard && $PROTO != udp ]] && die_config "TORCHAIN_PROTO=$PROTO but WireGuard is UDP only; set TORCHAIN_PROTO=udp"
for v in OUT_IF IN_IF TUN_IF; do
  valid_ifname "${!v}" || die_config "TORCHAIN_$v is not a plain interface name (1-15 of A-Z a-z 0-9 _ . @ + -)" value "${!v}"
done
[[ $OUT_IF != "$IN_IF" && $TUN_IF != "$OUT_IF" && $TUN_IF != "$IN_IF" ]] ||
  die_config "TORCHAIN_IN_IF, TORCHAIN_OUT_IF and TORCHAIN_TUN_IF must be three different interfaces" in "$IN_IF" out "$OUT_IF" tun "$TUN_IF"

# Endpoint: a.b.c.d:port or [v6]:port (literals only: the kill switch needs the address before any DNS).
if [[ $TORCHAIN_ENDPOINT =~ ^\[([^]]+)\]:([0-9]+)$ ]]; then
  SERVER_IP=${BASH_REMATCH[1]} SERVER_PORT=${BASH_REMATCH[2]} FAMILY=ipv6
  valid_ipv6 "$SERVER_IP" || die_config "TORCHAIN_ENDPOINT has an invalid IPv6 address" value "$TORCHAIN_ENDPOINT"
elif [[ $TORCHAIN_ENDPOINT =~ ^([0-9.]+):([0-9]+)$ ]]; then
  SERVER_IP=${BASH_REMATCH[1]} SERVER_PORT=${BASH_REMATCH[2]} FAMILY=ipv4
  valid_ipv4 "$SERVER_IP" || die_config "TORCHAIN_ENDPOINT has an invalid IPv4 address" value "$TORCHAIN_ENDPOINT"
else
  die_config "TORCHAIN_ENDPOINT must be IPv4:port or [IPv6]:port (an address literal, not a host name)" value "$TORCHAIN_ENDPOINT"
fi
valid_port "$SERVER_PORT" || die_config "TORCHAIN_ENDPOINT port must be 1..65535" value "$TORCHAIN_ENDPOINT"
SERVER_PORT=$((10#$SERVER_PORT))
if [[ $FAMILY == ipv6 ]]; then NFT_IP=ip6 IP_CMD=(ip -6) HOST_PREFIX=128; else NFT_IP=ip IP_CMD=(ip -4) HOST_PREFIX=32; fi

[[ $MTU =~ ^[0-9]{3,5}$ ]] && ((10#$MTU >= 576 && 10#$MTU <= 9000)) ||
  die_config "TORCHAIN_MTU must be an integer in 576..9000 (computed by the operator from the link MTU)" value "$MTU"
MTU=$((10#$MTU))

if [[ -n $OUT_GATEWAY ]]; then
  valid_ipv4 "$OUT_GATEWAY" || valid_ipv6 "$OUT_GATEWAY" || die_config "TORCHAIN_OUT_GATEWAY must be an IP address" value "$OUT_GATEWAY"
  if { [[ $OUT_GATEWAY == *:* ]] && [[ $FAMILY == ipv4 ]]; } || { [[ $OUT_GATEWAY != *:* ]] && [[ $FAMILY == ipv6 ]]; }; then
    die_config "TORCHAIN_OUT_GATEWAY and TORCHAIN_ENDPOINT must be of the same address family" gateway "$OUT_GATEWAY" endpoint "$TORCHAIN_ENDPOINT"
  fi
fi
if [[ -n $GATEWAY ]]; then
  gw_ok=0
  if [[ $GATEWAY =~ ^([0-9A-Fa-f:.]+)/([0-9]{1,3})$ ]]; then
    gw_addr=${BASH_REMATCH[1]} gw_len=$((10#${BASH_REMATCH[2]}))
    if valid_ipv4 "$gw_addr" && ((gw_len <= 32)); then gw_ok=1; fi
    if valid_ipv6 "$gw_addr" && ((gw_len <= 128)); then gw_ok=1; fi
  fi
  ((gw_ok)) || die_config "TORCHAIN_GATEWAY must be an address with prefix, e.g. 192.168.1.1/24" value "$GATEWAY"
fi

# Extra destinations the pod itself reaches through the tunnel (e.g. the log-exporter's probe target): its own
# traffic follows the main table, which keeps the pod network as default route.
IFS=, read -ra TUNNEL_ROUTE_LIST <<<"$TUNNEL_ROUTES"
for r in "${TUNNEL_ROUTE_LIST[@]}"; do
  if [[ ! $r =~ ^([0-9.]+)/([0-9]{1,2})$ ]] || ! valid_ipv4 "${r%/*}" || ((10#${r#*/} > 32)); then
    die_config "TORCHAIN_TUNNEL_ROUTES must be a comma-separated list of IPv4 CIDRs" value "$r"
  fi
done
[[ -f $CONFIG && -r $CONFIG ]] || die_config "TORCHAIN_CONFIG is not a readable file; check the Secret mount and vpnFileConfig" path "$CONFIG"
[[ -d $TMP_DIR && -w $TMP_DIR ]] || die_config "TORCHAIN_TMP_DIR is not a writable directory; mount an emptyDir there" path "$TMP_DIR"
for dev in "$OUT_IF" "$IN_IF"; do
  ip link show dev "$dev" >/dev/null 2>&1 || die_config "interface $dev does not exist in this network namespace; check the pod's network attachments" interface "$dev"
done
if [[ $TYPE == openvpn ]]; then
  command -v openvpn >/dev/null || die_config "openvpn is not installed in this image; use the openvpn hop image"
else
  command -v wireguard-go >/dev/null && command -v wg >/dev/null || die_config "wireguard-go or wg is not installed in this image; use the wireguard hop image"
fi

# The client config, prepared now so that a bad config changes nothing either.
umask 077
RUN_CONFIG="$TMP_DIR/torchain-$TYPE.conf"
HAS_PING=0 HAS_VERB=0 HAS_CONNECT_RETRY=0
WG_ADDRESSES=() WG_PEERS=0 WG_PEER_KEY=""

prepare_openvpn_config() {
  # Drop what this script decides (device, MTU, server, routes, scripts, logging): the kill switch only lets the
  # tunnel reach TORCHAIN_ENDPOINT, so the client must go exactly there, and routes are ours.
  local line word
  : >"$RUN_CONFIG"
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    word=${line#"${line%%[![:space:]]*}"}
    word=${word%%[[:space:]]*}
    case $word in
      '<connection>') die_config "TORCHAIN_CONFIG uses <connection> blocks; give one server per config (one pool entry per server)" path "$CONFIG" ;;
      remote | proto | dev | dev-type | dev-node | tun-mtu | link-mtu | daemon | log | log-append | syslog | \
        redirect-gateway | route | route-ipv6 | up | down | route-up | route-pre-down | ipchange | \
        script-security | writepid | user | group | chroot | management | remote-random | remote-random-hostname | \
        persist-tun)
        continue
        ;;
      ping | ping-restart | keepalive | ping-exit | inactive) HAS_PING=1 ;;
      verb) HAS_VERB=1 ;;
      connect-retry) HAS_CONNECT_RETRY=1 ;;
    esac
    printf '%s\n' "$line" >>"$RUN_CONFIG"
  done <"$CONFIG"
}

prepare_wireguard_config() {
  # wg-quick keys (Address, DNS, MTU, Table, Pre/PostUp/Down, SaveConfig) are not `wg setconf` syntax: take them
  # out. Address is assigned below; DNS, Table and the hooks are ignored on purpose (routes and MTU are ours).
  # Endpoint is replaced by TORCHAIN_ENDPOINT.
  local line bare key value section=""
  local -a parts
  : >"$RUN_CONFIG"
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    bare=${line%%#*}
    bare=${bare//[[:space:]]/}
    key=${bare%%=*}
    key=${key,,}
    value=${bare#*=}
    case ${bare,,} in
      '[interface]') section=interface ;;
      '[peer]')
        section=peer
        WG_PEERS=$((WG_PEERS + 1))
        # The server endpoint is TORCHAIN_ENDPOINT, the only one the kill switch lets through. Setting it in the
        # config (not later with `wg set`) lets the first handshake go out at once.
        printf '%s\nEndpoint = %s\n' "$line" "$TORCHAIN_ENDPOINT" >>"$RUN_CONFIG"
        continue
        ;;
      *)
        if [[ $section == interface ]]; then
          case $key in
            address)
              IFS=, read -ra parts <<<"$value"
              WG_ADDRESSES+=("${parts[@]}")
              continue
              ;;
            dns | mtu | table | preup | postup | predown | postdown | saveconfig) continue ;;
          esac
        elif [[ $section == peer ]]; then
          [[ $key == publickey ]] && WG_PEER_KEY=${bare#*=}
          [[ $key == endpoint ]] && continue
        fi
        ;;
    esac
    printf '%s\n' "$line" >>"$RUN_CONFIG"
  done <"$CONFIG"
  ((WG_PEERS == 1)) || die_config "TORCHAIN_CONFIG must have exactly one [Peer] (the hop's server), found $WG_PEERS" path "$CONFIG"
  [[ -n $WG_PEER_KEY ]] || die_config "TORCHAIN_CONFIG's [Peer] has no PublicKey" path "$CONFIG"
  local a
  for a in "${WG_ADDRESSES[@]}"; do
    [[ $a =~ ^[0-9A-Fa-f:.]+/[0-9]{1,3}$ ]] || die_config "TORCHAIN_CONFIG has an Address that is not address/prefix" path "$CONFIG" value "$a"
  done
  ((${#WG_ADDRESSES[@]} > 0)) || die_config "TORCHAIN_CONFIG's [Interface] has no Address; the hop needs its tunnel address" path "$CONFIG"
}

if [[ $TYPE == openvpn ]]; then prepare_openvpn_config; else prepare_wireguard_config; fi

# Next hop toward the server on OUT_IF: TORCHAIN_OUT_GATEWAY, else a gateway the attachment's IPAM installed on
# OUT_IF, else the server is on-link.
if [[ -z $OUT_GATEWAY ]]; then
  while read -r route; do
    if [[ $route =~ (^|[[:space:]])via[[:space:]]+([^[:space:]]+) ]]; then
      OUT_GATEWAY=${BASH_REMATCH[2]}
      break
    fi
  done < <("${IP_CMD[@]}" route show dev "$OUT_IF")
fi

log info "starting hop" type "$TYPE" endpoint "$TORCHAIN_ENDPOINT" proto "$PROTO" out_if "$OUT_IF" in_if "$IN_IF" \
  tun_if "$TUN_IF" mtu "$MTU" out_gateway "${OUT_GATEWAY:-on-link}" lan_gateway "${GATEWAY:-none}"

# ---------------------------------------------------------------------------------------------------------------
# 2. Kill switch, NAT and MSS clamp: one nftables transaction (the old table, if any, is replaced atomically).
# ---------------------------------------------------------------------------------------------------------------
MSS4=$((MTU - 40))
MSS6=$((MTU - 60))
nft -f - <<EOF || die "could not install the nftables kill switch; the container needs CAP_NET_ADMIN" table "inet $NFT_TABLE"
table inet $NFT_TABLE
delete table inet $NFT_TABLE
table inet $NFT_TABLE {
  counter out_blocked { }
  counter in_blocked { }
  counter forward_blocked { }

  # Only this hop's own tunnel packets to its server leave OUT_IF (plus IPv6 neighbour discovery, which carries
  # no payload and is needed to reach an IPv6 next hop).
  chain output {
    type filter hook output priority filter; policy accept;
    oifname "$OUT_IF" jump out_guard
  }
  chain out_guard {
    $NFT_IP daddr $SERVER_IP $PROTO dport $SERVER_PORT accept
    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept
    counter name out_blocked drop
  }

  # Inbound on OUT_IF: the server's answers and ICMP errors about our own flows (PMTU), nothing else.
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "$OUT_IF" jump in_guard
  }
  chain in_guard {
    ct state established,related accept
    $NFT_IP saddr $SERVER_IP $PROTO sport $SERVER_PORT accept
    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept
    counter name in_blocked drop
  }

  # Forwarded client traffic may only go into the tunnel; answers only come back from it.
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname "$IN_IF" oifname "$TUN_IF" accept
    iifname "$TUN_IF" oifname "$IN_IF" ct state established,related accept
    counter name forward_blocked drop
  }

  # TCP MSS clamp to the tunnel MTU, both directions, so TCP never needs PMTU discovery through the chain.
  chain mss_clamp {
    type filter hook forward priority mangle; policy accept;
    oifname "$TUN_IF" meta nfproto ipv4 tcp flags syn / syn,rst tcp option maxseg size > $MSS4 tcp option maxseg size set $MSS4
    iifname "$TUN_IF" meta nfproto ipv4 tcp flags syn / syn,rst tcp option maxseg size > $MSS4 tcp option maxseg size set $MSS4
    oifname "$TUN_IF" meta nfproto ipv6 tcp flags syn / syn,rst tcp option maxseg size > $MSS6 tcp option maxseg size set $MSS6
    iifname "$TUN_IF" meta nfproto ipv6 tcp flags syn / syn,rst tcp option maxseg size > $MSS6 tcp option maxseg size set $MSS6
  }

  # The server only knows this hop's tunnel address: hide whatever is behind us.
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "$TUN_IF" masquerade
  }

  # While the tunnel has no address (client restarting, new server being configured), masquerade falls back to
  # another interface's address (the LAN gateway's) and conntrack would keep that binding for the flow's lifetime:
  # the new server drops it forever. Dropping such packets here, before conntrack confirms the entry, discards
  # the binding; the flow's next packet is NATed afresh once the tunnel has its address.
  counter nat_unready { }
  chain nat_guard {
    type filter hook postrouting priority srcnat + 1; policy accept;
    oifname "$TUN_IF" fib saddr . oif type != local counter name nat_unready drop
  }
}
EOF
log info "kill switch installed" table "inet $NFT_TABLE" allowed "$PROTO $TORCHAIN_ENDPOINT via $OUT_IF"

# ---------------------------------------------------------------------------------------------------------------
# 3. Forwarding, now that the kill switch holds.
# ---------------------------------------------------------------------------------------------------------------
set_sysctl() {
  local path=/proc/sys/$1 want=$2 have
  have=$(<"$path")
  [[ $have == "$want" ]] && return 0
  if ! { printf '%s\n' "$want" >"$path"; } 2>/dev/null; then
    return 1
  fi
}
set_sysctl net/ipv4/ip_forward 1 ||
  die "cannot enable net.ipv4.ip_forward: /proc/sys is read-only here; set it in the pod (securityContext.sysctls, allowed by the kubelet's --allowed-unsafe-sysctls) or with the tuning CNI plugin"
# A reply from the internet arrives on the tunnel although the main table routes its source elsewhere (or
# nowhere): reverse-path filtering must not drop it. Effective value = max(all, interface).
if ! set_sysctl net/ipv4/conf/all/rp_filter 0; then
  log warn "could not set net.ipv4.conf.all.rp_filter=0; strict reverse-path filtering would drop replies from the tunnel" value "$(</proc/sys/net/ipv4/conf/all/rp_filter)"
fi

# ---------------------------------------------------------------------------------------------------------------
# 4. Tunnel device and routes.
# ---------------------------------------------------------------------------------------------------------------
# A persistent tun device outlives the client: routes into it survive client restarts, and while no client holds
# it, packets routed into it are dropped (never sent elsewhere). openvpn and wireguard-go both attach to it.
if ! ip link show dev "$TUN_IF" >/dev/null 2>&1; then
  ip tuntap add dev "$TUN_IF" mode tun || die "could not create the tun device; /dev/net/tun must be available in the container" interface "$TUN_IF"
fi
# Addresses of a previous run (another server of the pool hands out another tunnel address) would be picked by
# the masquerade rule and refused by the new server: start clean, the client assigns its own.
ip address flush dev "$TUN_IF"
ip link set dev "$TUN_IF" mtu "$MTU" up
if [[ -n $GATEWAY ]]; then
  ip address replace "$GATEWAY" dev "$IN_IF"
fi
ip link set dev "$IN_IF" up
ip link set dev "$OUT_IF" up

# Main table: only the route to the server (tagged with our protocol number, so a new server replaces the old).
ip -4 route flush proto "$ROUTE_PROTO" 2>/dev/null || true
ip -6 route flush proto "$ROUTE_PROTO" 2>/dev/null || true
if [[ -n $OUT_GATEWAY ]]; then
  "${IP_CMD[@]}" route replace "$SERVER_IP/$HOST_PREFIX" via "$OUT_GATEWAY" dev "$OUT_IF" proto "$ROUTE_PROTO"
else
  "${IP_CMD[@]}" route replace "$SERVER_IP/$HOST_PREFIX" dev "$OUT_IF" proto "$ROUTE_PROTO"
fi
# Table 188: everything entering on IN_IF goes into the tunnel; "unreachable" answers when the device is gone.
ip -4 route replace default dev "$TUN_IF" table "$ROUTE_TABLE" proto "$ROUTE_PROTO"
ip -4 route replace unreachable default metric 4294967295 table "$ROUTE_TABLE" proto "$ROUTE_PROTO"
for r in "${TUNNEL_ROUTE_LIST[@]}"; do
  ip -4 route replace "$r" dev "$TUN_IF" proto "$ROUTE_PROTO"
done
while ip -4 rule del pref "$RULE_PREF" 2>/dev/null; do :; done
ip -4 rule add pref "$RULE_PREF" iif "$IN_IF" lookup "$ROUTE_TABLE"
log info "routes set" server_route "$SERVER_IP/$HOST_PREFIX dev $OUT_IF" forward_table "$ROUTE_TABLE" tunnel_mtu "$MTU"

# ---------------------------------------------------------------------------------------------------------------
# 5. The VPN client, in the foreground.
# ---------------------------------------------------------------------------------------------------------------
trap - ERR
if [[ $TYPE == openvpn ]]; then
  # OpenVPN 2.6 servers push their own tun-mtu; ours is computed for the chain, so the push is ignored.
  # --persist-tun: on its own restarts (ping-restart, connection refused) OpenVPN would otherwise set the device
  # down, and the kernel deletes every route through a device that goes down (our table-188 default included).
  args=(--config "$RUN_CONFIG" --dev "$TUN_IF" --dev-type tun --tun-mtu "$MTU" --pull-filter ignore tun-mtu --route-noexec --persist-tun
    --remote "$SERVER_IP" "$SERVER_PORT" --proto "$([[ $PROTO == udp ]] && echo udp || echo tcp-client)")
  # Fast failure detection unless the config (or the server's push) says otherwise: OpenVPN's own default
  # ping-restart is 120 s.
  ((HAS_PING)) || args+=(--ping "${TORCHAIN_OVPN_PING:-5}" --ping-restart "${TORCHAIN_OVPN_PING_RESTART:-15}")
  ((HAS_VERB)) || args+=(--verb 3)
  [[ $PROTO == tcp ]] && ((!HAS_CONNECT_RETRY)) && args+=(--connect-retry 1 5)
  log info "exec openvpn" config "$RUN_CONFIG"
  exec openvpn "${args[@]}"
fi

# WireGuard: wireguard-go in the foreground (its log on our stdout), configured through its UAPI socket.
sock=$WG_SOCK_DIR/$TUN_IF.sock
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
configure_wireguard() {
  wg setconf "$TUN_IF" "$RUN_CONFIG" || return 1
  local a
  for a in "${WG_ADDRESSES[@]}"; do
    ip address replace "$a" dev "$TUN_IF" || return 1
  done
  # wireguard-go sets its default MTU (1420) on start: set ours again.
  ip link set dev "$TUN_IF" mtu "$MTU" up
}
if ! configure_wireguard; then
  rm -f "$RUN_CONFIG"
  kill -TERM "$wg_pid" 2>/dev/null || true
  die "could not configure wireguard-go with TORCHAIN_CONFIG" path "$CONFIG"
fi
rm -f "$RUN_CONFIG" # holds the private key; wireguard-go has it now
log info "wireguard configured" interface "$TUN_IF" addresses "${WG_ADDRESSES[*]}"
rc=0
wait "$wg_pid" || rc=$?
# `wait` returns early when a trapped signal arrives: wait for the daemon to finish.
while kill -0 "$wg_pid" 2>/dev/null; do wait "$wg_pid" || rc=$?; done
log info "wireguard-go exited" status "$rc"
exit "$rc"
