#!/usr/bin/env bash
# torchain hop entrypoint: the `vpn` container of a hop pod (and the lab's hop process) runs this.
#
# Protocol-free: the protocol's part lives in images/hop/vpn/<TORCHAIN_TYPE>.sh, sourced below, which defines
#   vpn_check          checks the protocol's own inputs (environment, config file, binaries); changes nothing
#   vpn_endpoints      prints the kill switch's allowed endpoints, one "<udp|tcp> <address> <port>" per line
#   vpn_tunnel_device  creates the tunnel device TUN_IF (a persistent tun device, so routes into it survive)
#   vpn_run            runs the client in the foreground, its output on stdout unchanged (exec where it can)
# Server configs are parsed in one place, the operator's protocol modules (operator/src/protocols/<type>/): the
# config file given here is already the one the client runs, and the facts the hop needs come as TORCHAIN_* variables.
#
# From the TORCHAIN_* environment (docs/dataplane.md has the full contract) it
#   1. checks every input and stops with exit 64 and a clear error before changing anything;
#   2. installs the kill switch (nftables table `inet torchain`, one atomic transaction that replaces the previous
#      one): nothing leaves TORCHAIN_OUT_IF except this hop's tunnel packets to its server endpoint, and forwarded
#      client traffic may only leave through the tunnel; plus NAT into the tunnel and TCP MSS clamping;
#   3. creates the tunnel device, then enables forwarding on TORCHAIN_IN_IF and the tunnel device only, and only
#      then gives TORCHAIN_IN_IF its address (TORCHAIN_GATEWAY): until the kill switch holds, nobody below can even
#      reach this hop;
#   4. routes forwarded traffic from TORCHAIN_IN_IF into the tunnel (policy routing table 188) and the server
#      endpoint through TORCHAIN_OUT_IF;
#   5. runs the VPN client in the foreground.
# With TORCHAIN_DNS=1 (the hop that serves DNS to the LAN: TorChain spec.dns, the last hop) the kill switch also
# redirects every plain DNS query from TORCHAIN_IN_IF to the hop's resolver (the `dns` container, images/hop/dns.sh)
# and lets that resolver's packets out only into the tunnel; the exit resolver it forwards to is published for it
# by images/hop/dns-publish.sh (here: the chain's own or the config's; the protocol hooks: what the server pushes).
# `entrypoint.sh dns` runs that resolver container instead (same image, non-root).
#
# Nothing is undone on exit: the kill switch, routes and tun device stay while the client restarts or the
# container is restarted, so a dead client black-holes traffic instead of leaking it. Everything is replaced
# atomically on the next start (with a new server endpoint if the config changed).
#
# Needs CAP_NET_ADMIN only (inside the pod's network namespace), bash, iproute2, nftables, perl (devconf.pl, where
# /proc/sys is read-only) and the protocol's client.
# Own log lines are JSON on stderr; stdout carries only the VPN client's output.
set -Eeuo pipefail

readonly HOP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The hop image's second role: the LAN resolver of the `dns` container (non-root, no capabilities).
if [[ ${1:-} == dns ]]; then
  exec bash "$HOP_DIR/dns.sh"
fi
readonly NFT_TABLE=torchain
readonly ROUTE_TABLE=188 # policy routing table for traffic entering on TORCHAIN_IN_IF
readonly ROUTE_PROTO=73  # marks the routes this script owns (unassigned in iproute2's rt_protos)
readonly RULE_PREF=188
readonly EX_CONFIG=64 # bad input: fix the environment or the config, a restart will not help
readonly DNS_DEFAULT_PORT=1053   # the resolver's port (unprivileged: the kill switch redirects 53 to it)
readonly DNS_DEFAULT_UID=65531   # the `dns` container's user (operator/src/core/hop-objects.ts DNS_UID)
readonly DNS_DEFAULT_DIR=/run/torchain/dns

# shellcheck source=log.sh
source "$HOP_DIR/log.sh"

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

# valid_ipv4_cidr VALUE: a.b.c.d/len with len 0..32.
valid_ipv4_cidr() {
  [[ $1 =~ ^([0-9.]+)/([0-9]{1,2})$ ]] || return 1
  local len=${BASH_REMATCH[2]}
  valid_ipv4 "${BASH_REMATCH[1]}" && ((10#$len <= 32))
}

# require_binaries NAME...: the protocol's client must be in this image.
require_binaries() {
  local b
  for b in "$@"; do
    command -v "$b" >/dev/null || die_config "$b is not installed in this image; use the $TYPE hop image" binary "$b"
  done
}

# The kill switch's endpoints from TORCHAIN_ENDPOINT and TORCHAIN_PROTO, for modules whose client talks to one
# address and port (all of them today).
endpoints_from_env() {
  local p
  for p in "${PROTOS[@]}"; do printf '%s %s %s\n' "$p" "$SERVER_IP" "$SERVER_PORT"; done
}

# create_persistent_tun: a tun device that outlives the client. Routes into it survive client restarts; while no
# client holds it, packets routed into it are dropped (never sent elsewhere). Every client here attaches to it.
create_persistent_tun() {
  if ! ip link show dev "$TUN_IF" >/dev/null 2>&1; then
    ip tuntap add dev "$TUN_IF" mode tun || die "could not create the tun device; /dev/net/tun must be available in the container" interface "$TUN_IF"
  fi
  # Addresses of a previous run (another server hands out another tunnel address) would be picked by the masquerade
  # rule and refused by the new server: start clean, the client assigns its own.
  ip address flush dev "$TUN_IF"
  ip link set dev "$TUN_IF" mtu "$MTU" up
}

for v in TORCHAIN_TYPE TORCHAIN_CONFIG TORCHAIN_ENDPOINT TORCHAIN_PROTO TORCHAIN_OUT_IF TORCHAIN_IN_IF TORCHAIN_MTU TORCHAIN_TUN_IF; do
  require "$v"
done
TYPE=$TORCHAIN_TYPE
CONFIG=$TORCHAIN_CONFIG
OUT_IF=$TORCHAIN_OUT_IF
IN_IF=$TORCHAIN_IN_IF
TUN_IF=$TORCHAIN_TUN_IF
MTU=$TORCHAIN_MTU
TMP_DIR=${TORCHAIN_TMP_DIR:-/tmp}
TUNNEL_ROUTES=${TORCHAIN_TUNNEL_ROUTES:-}
GATEWAY=${TORCHAIN_GATEWAY:-}
OUT_GATEWAY=${TORCHAIN_OUT_GATEWAY:-}

# The protocol module: images/hop/vpn/<type>.sh, one per protocol of the registry (common/contracts/protocols.ts).
if [[ ! $TYPE =~ ^[a-z][a-z0-9-]{0,31}$ || ! -f $HOP_DIR/vpn/$TYPE.sh ]]; then
  known=$(cd "$HOP_DIR/vpn" && for f in *.sh; do [[ $f == *-* ]] || printf '%s ' "${f%.sh}"; done)
  die_config "TORCHAIN_TYPE must be one of: ${known% }" value "$TYPE"
fi
# shellcheck source=/dev/null
source "$HOP_DIR/vpn/$TYPE.sh"
# shellcheck source=dns-publish.sh
source "$HOP_DIR/dns-publish.sh"

IFS=, read -ra PROTOS <<<"$TORCHAIN_PROTO"
for p in "${PROTOS[@]}"; do
  [[ $p == udp || $p == tcp ]] || die_config "TORCHAIN_PROTO must be udp, tcp or a comma-separated list of them" value "$TORCHAIN_PROTO"
done
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
# The hop's address on IN_IF. IPv4 only: client traffic is IPv4 (table 188 and the forward rules serve IPv4).
if [[ -n $GATEWAY ]]; then
  valid_ipv4_cidr "$GATEWAY" && [[ ! $GATEWAY =~ /(31|32)$ ]] ||
    die_config "TORCHAIN_GATEWAY must be an IPv4 address with a prefix of /30 or shorter, e.g. 192.168.1.1/24 (LAN clients and the next hop must be on its subnet)" value "$GATEWAY"
fi

# Extra destinations the pod itself reaches through the tunnel (e.g. the log-exporter's probe target): its own
# traffic follows the main table, which keeps the pod network as default route.
IFS=, read -ra TUNNEL_ROUTE_LIST <<<"$TUNNEL_ROUTES"
for r in "${TUNNEL_ROUTE_LIST[@]}"; do
  valid_ipv4_cidr "$r" || die_config "TORCHAIN_TUNNEL_ROUTES must be a comma-separated list of IPv4 CIDRs" value "$r"
done
# DNS for the LAN (the hop that serves it): the resolver's port, user and shared directory, and its upstream.
DNS=${TORCHAIN_DNS:-0}
[[ $DNS == 0 || $DNS == 1 ]] || die_config "TORCHAIN_DNS must be 1 (this hop serves DNS to the LAN on TORCHAIN_GATEWAY) or 0" value "$DNS"
DNS_SERVERS=() DNS_CONFIGURED=()
if [[ $DNS == 1 ]]; then
  [[ -n $GATEWAY ]] || die_config "TORCHAIN_DNS=1 needs TORCHAIN_GATEWAY: the resolver answers on the hop's LAN address (ipGateWay)"
  DNS_PORT=${TORCHAIN_DNS_PORT:-$DNS_DEFAULT_PORT}
  valid_port "$DNS_PORT" && ((10#$DNS_PORT != 53)) ||
    die_config "TORCHAIN_DNS_PORT must be a port other than 53 (53 is redirected to it)" value "$DNS_PORT"
  DNS_PORT=$((10#$DNS_PORT))
  DNS_UID=${TORCHAIN_DNS_UID:-$DNS_DEFAULT_UID}
  [[ $DNS_UID =~ ^[0-9]{1,10}$ ]] && ((10#$DNS_UID >= 1 && 10#$DNS_UID <= 4294967294)) ||
    die_config "TORCHAIN_DNS_UID must be the dns container's user id, not 0 (the kill switch confines that user's packets to the tunnel)" value "$DNS_UID"
  DNS_UID=$((10#$DNS_UID))
  export TORCHAIN_DNS_DIR=${TORCHAIN_DNS_DIR:-$DNS_DEFAULT_DIR}
  [[ -d $TORCHAIN_DNS_DIR && -w $TORCHAIN_DNS_DIR ]] ||
    die_config "TORCHAIN_DNS_DIR is not a writable directory; mount the emptyDir shared with the dns container there" path "$TORCHAIN_DNS_DIR"
  for v in TORCHAIN_DNS_SERVERS TORCHAIN_DNS_CONFIGURED; do
    list=()
    while read -r a; do
      dns_ipv4 "$a" || die_config "$v must be a comma-separated list of IPv4 resolver addresses" value "$a"
      list+=("$a")
    done < <(dns_split "${!v:-}")
    ((${#list[@]} <= 3)) || die_config "$v lists more than 3 resolvers" value "${!v}"
    if [[ $v == TORCHAIN_DNS_SERVERS ]]; then DNS_SERVERS=("${list[@]}"); else DNS_CONFIGURED=("${list[@]}"); fi
  done
fi
[[ -f $CONFIG && -r $CONFIG ]] || die_config "TORCHAIN_CONFIG is not a readable file; check the Secret mount and vpnFileConfig" path "$CONFIG"
[[ -d $TMP_DIR && -w $TMP_DIR ]] || die_config "TORCHAIN_TMP_DIR is not a writable directory; mount an emptyDir there" path "$TMP_DIR"
for dev in "$OUT_IF" "$IN_IF"; do
  ip link show dev "$dev" >/dev/null 2>&1 || die_config "interface $dev does not exist in this network namespace; check the pod's network attachments" interface "$dev"
done

vpn_check
mapfile -t KILL_SWITCH_ENDPOINTS < <(vpn_endpoints)
((${#KILL_SWITCH_ENDPOINTS[@]} > 0)) || die_config "the $TYPE module names no server endpoint for the kill switch"
# TORCHAIN_CHECK_ONLY=1: stop here (the API tests run every accepted spec through the checks above).
if [[ ${TORCHAIN_CHECK_ONLY:-} == 1 ]]; then
  log info "inputs accepted (TORCHAIN_CHECK_ONLY=1: nothing changed)" type "$TYPE"
  exit 0
fi

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

log info "starting hop" type "$TYPE" endpoint "$TORCHAIN_ENDPOINT" proto "$TORCHAIN_PROTO" out_if "$OUT_IF" in_if "$IN_IF" \
  tun_if "$TUN_IF" mtu "$MTU" out_gateway "${OUT_GATEWAY:-on-link}" gateway "${GATEWAY:-none}"

# ---------------------------------------------------------------------------------------------------------------
# 2. Kill switch, NAT and MSS clamp: one nftables transaction (the old table, if any, is replaced atomically).
# ---------------------------------------------------------------------------------------------------------------
MSS4=$((MTU - 40))
MSS6=$((MTU - 60))
allow_out="" allow_in=""
for e in "${KILL_SWITCH_ENDPOINTS[@]}"; do
  read -r p a port <<<"$e"
  allow_out+="    $NFT_IP daddr $a $p dport $port accept"$'\n'
  allow_in+="    $NFT_IP saddr $a $p sport $port accept"$'\n'
done
# DNS for the LAN: a redirect of every plain DNS query to this hop's resolver, and a guard that lets the resolver's
# own packets out only into the tunnel (its upstream queries) or back to whoever asked (its answers).
dns_output="" dns_input="" dns_rules=""
if [[ $DNS == 1 ]]; then
  dns_output="    meta skuid $DNS_UID jump dns_guard"$'\n'
  dns_input="    meta l4proto { udp, tcp } th dport $DNS_PORT iifname != { \"$IN_IF\", \"lo\" } counter name dns_blocked drop"$'\n'
  dns_rules=$(
    cat <<DNS
  counter dns_redirected { }
  counter dns_blocked { }

  # Plain DNS from the LAN, to the gateway or to any resolver a client has hard-coded, is answered by this hop's
  # resolver, which forwards it through the chain. (Redirected before routing: it is never forwarded.)
  chain dns_redirect {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "$IN_IF" meta nfproto ipv4 meta l4proto { udp, tcp } th dport 53 counter name dns_redirected redirect to :$DNS_PORT
  }

  # The resolver's packets (uid $DNS_UID): upstream queries into the tunnel only, answers back on IN_IF or lo.
  chain dns_guard {
    oifname "$TUN_IF" accept
    oifname "lo" accept
    oifname "$IN_IF" ct direction reply accept
    counter name dns_blocked drop
  }
DNS
  )
fi
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
${dns_output}    oifname "$OUT_IF" jump out_guard
  }
  chain out_guard {
${allow_out}    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept
    counter name out_blocked drop
  }

  # Inbound on OUT_IF: the server's answers and ICMP errors about our own flows (PMTU), nothing else.
  chain input {
    type filter hook input priority filter; policy accept;
${dns_input}    iifname "$OUT_IF" jump in_guard
  }
  chain in_guard {
    ct state established,related accept
${allow_in}    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept
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
${dns_rules}
}
EOF
log info "kill switch installed" table "inet $NFT_TABLE" allowed "$TORCHAIN_PROTO $TORCHAIN_ENDPOINT via $OUT_IF"

# ---------------------------------------------------------------------------------------------------------------
# 3. Tunnel device, forwarding and the hop's own address on IN_IF, now that the kill switch holds.
# ---------------------------------------------------------------------------------------------------------------
vpn_tunnel_device

# set_sysctl PATH VALUE: writes /proc/sys/PATH unless it already holds VALUE.
set_sysctl() {
  local path=/proc/sys/$1 want=$2 have
  have=$(<"$path")
  [[ $have == "$want" ]] && return 0
  { printf '%s\n' "$want" >"$path"; } 2>/dev/null
}
# set_devconf IFNAME NAME VALUE: net.ipv4.conf.IFNAME.NAME. Runtimes built on runc mount /proc/sys read-only even for
# a NET_ADMIN container with its own network namespace; rtnetlink sets the same per-interface value with
# CAP_NET_ADMIN alone (devconf.pl).
set_devconf() {
  set_sysctl "net/ipv4/conf/$1/$2" "$3" && return 0
  [[ $1 != all && $1 != default ]] && command -v perl >/dev/null || return 1
  perl "$HOP_DIR/devconf.pl" "$1" "$2" "$3"
}
# Forwarding only for what enters on IN_IF (clients, the next hop) and what comes back from the tunnel. (A new
# network namespace inherits IPv4 forwarding from the node, usually on: what keeps a hop unreachable until now is
# that IN_IF has no address before the next step.)
for dev in "$IN_IF" "$TUN_IF"; do
  set_devconf "$dev" forwarding 1 ||
    die "cannot enable forwarding on $dev: /proc/sys is read-only and rtnetlink refused too; the container needs CAP_NET_ADMIN (and perl for images/hop/devconf.pl)" interface "$dev"
done
# A reply from the internet arrives on the tunnel although the main table routes its source elsewhere (or
# nowhere): reverse-path filtering must not drop it. Effective value = max(all, interface).
for dev in all "$TUN_IF"; do
  if ! set_devconf "$dev" rp_filter 0; then
    log warn "could not set rp_filter=0; strict reverse-path filtering would drop replies from the tunnel" interface "$dev"
  fi
done
if [[ -n $GATEWAY ]]; then
  # A MAC address that follows the gateway address, not the pod: every new pod of this hop (each switch makes one)
  # answers at the same MAC, so the hop below and the LAN clients, whose ARP caches still hold the address, reach it
  # at once instead of after their neighbour entries time out. Locally administered (02:), unique per IPv4 address.
  IFS=. read -r o1 o2 o3 o4 <<<"${GATEWAY%/*}"
  printf -v in_mac '02:74:%02x:%02x:%02x:%02x' "$o1" "$o2" "$o3" "$o4"
  ip link set dev "$IN_IF" address "$in_mac"
  ip address replace "$GATEWAY" dev "$IN_IF"
fi
ip link set dev "$IN_IF" up
ip link set dev "$OUT_IF" up

# ---------------------------------------------------------------------------------------------------------------
# 4. Routes.
# ---------------------------------------------------------------------------------------------------------------
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
# The resolver's upstream: none until this run knows one (never the previous server's), then the chain's own
# resolvers or those the config names; the protocol's hook replaces them with what the server pushes.
if [[ $DNS == 1 ]]; then
  dns_forget
  if ((${#DNS_SERVERS[@]})); then
    dns_publish "set for the chain (TORCHAIN_DNS_SERVERS)" "${DNS_SERVERS[@]}"
  elif ((${#DNS_CONFIGURED[@]})); then
    dns_publish "named in the config (TORCHAIN_DNS_CONFIGURED)" "${DNS_CONFIGURED[@]}"
  fi
fi
log info "routes set" server_route "$SERVER_IP/$HOST_PREFIX dev $OUT_IF" forward_table "$ROUTE_TABLE" tunnel_mtu "$MTU"

# ---------------------------------------------------------------------------------------------------------------
# 5. The VPN client, in the foreground.
# ---------------------------------------------------------------------------------------------------------------
trap - ERR
vpn_run
