#!/usr/bin/env bash
# torchain hop resolver: the `dns` container of the hop that serves DNS to the LAN (TorChain spec.dns, the last hop),
# started as `entrypoint.sh dns` from the hop image, non-root and without capabilities. It runs Debian's unbound as
# a pure forwarder on the hop's LAN address (TORCHAIN_GATEWAY) and 127.0.0.1, port TORCHAIN_DNS_PORT (the vpn
# container's kill switch redirects every plain DNS query from the LAN, port 53 to any resolver, there), and
# forwards every query to the exit's resolver — the one the innermost server pushes or names, or the chain's own
# (images/hop/dns-publish.sh writes it to $TORCHAIN_DNS_DIR/upstream).
#
# This script supervises unbound: it renders its config, polls the upstream file once a second and restarts unbound
# on a change (a fresh process: no cache, no memory of a failing upstream). No upstream known: no unbound, and a LAN
# query gets "port unreachable" at once — DNS fails closed. unbound caches nothing (every answer comes through the
# chain, now), answers NXDOMAIN for Firefox's DoH canary, and serves its statistics on 127.0.0.1
# (TORCHAIN_DNS_CONTROL_PORT) for the log-exporter. Its upstream queries can only leave through the tunnel: the
# kill switch drops any packet of this uid (TORCHAIN_DNS_UID) on another interface.
#
# Own log lines are JSON on stderr; unbound's own (start, errors; never queries) go to stderr too.
set -Eeuo pipefail

readonly DNS_DIR=${TORCHAIN_DNS_DIR:-/run/torchain/dns}
readonly PORT=${TORCHAIN_DNS_PORT:-1053}
readonly CONTROL_PORT=${TORCHAIN_DNS_CONTROL_PORT:-8953}
readonly RUN_DIR=${TORCHAIN_TMP_DIR:-/tmp}/torchain-dns
readonly EX_CONFIG=64

LOG_COMPONENT=torchain-dns
# shellcheck source=log.sh
source "$(dirname "${BASH_SOURCE[0]}")/log.sh"
die_config() {
  log error "$@"
  exit "$EX_CONFIG"
}

valid_port() { [[ $1 =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

GATEWAY=${TORCHAIN_GATEWAY:-}
[[ $GATEWAY =~ ^([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})/([0-9]{1,2})$ ]] ||
  die_config "TORCHAIN_GATEWAY must be the hop's LAN address with its prefix (192.168.50.1/24): the resolver answers there" value "$GATEWAY"
readonly LISTEN=${BASH_REMATCH[1]}
valid_port "$PORT" && ((10#$PORT != 53)) ||
  die_config "TORCHAIN_DNS_PORT must be a port other than 53 (the kill switch redirects 53 to it; the container binds no privileged port)" value "$PORT"
valid_port "$CONTROL_PORT" && ((10#$CONTROL_PORT != 10#$PORT)) ||
  die_config "TORCHAIN_DNS_CONTROL_PORT must be a port other than TORCHAIN_DNS_PORT" value "$CONTROL_PORT"
[[ -d $DNS_DIR && -r $DNS_DIR ]] || die_config "TORCHAIN_DNS_DIR is not a readable directory; mount the emptyDir the vpn container writes" path "$DNS_DIR"
command -v unbound >/dev/null || die_config "unbound is not installed in this image; use a torchain hop image"
mkdir -p "$RUN_DIR" || die_config "cannot create the resolver's scratch directory; TORCHAIN_TMP_DIR must be a writable emptyDir" path "$RUN_DIR"
readonly CONF=$RUN_DIR/unbound.conf

# The upstream file's resolvers, space-separated (at most 3, IPv4 only; anything else is ignored).
read_upstream() {
  local f=$DNS_DIR/upstream key addr out=()
  [[ -r $f ]] || return 0
  while read -r key addr _; do
    [[ $key == nameserver && $addr =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] && out+=("$addr")
  done <"$f"
  printf '%s' "${out[*]:0:3}"
}

render() {
  local a
  {
    cat <<EOF
# Rendered by images/hop/dns.sh; do not edit (it is rewritten on every upstream change).
server:
  interface: $LISTEN@$PORT
  interface: 127.0.0.1@$PORT
  # The LAN address appears only once the kill switch holds (the entrypoint assigns it): bind it before that.
  ip-freebind: yes
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$RUN_DIR"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  log-queries: no
  log-replies: no
  num-threads: 1
  so-reuseport: no
  access-control: 0.0.0.0/0 refuse
  access-control: $GATEWAY allow
  access-control: 127.0.0.0/8 allow
  hide-identity: yes
  hide-version: yes
  module-config: "iterator"
  # No cache: every answer comes through the chain now, never from before a failure or a switch.
  cache-max-ttl: 0
  cache-max-negative-ttl: 0
  msg-cache-size: 256k
  rrset-cache-size: 256k
  prefetch: no
  serve-expired: no
  # An upstream that timed out is tried again at once when the chain is back, never written off for minutes.
  infra-keep-probing: yes
  infra-host-ttl: 10
  # Firefox turns its DNS-over-HTTPS default off when this canary does not resolve (docs/install.md).
  local-zone: "use-application-dns.net." always_nxdomain
  extended-statistics: yes
  statistics-cumulative: yes
  statistics-interval: 0
remote-control:
  control-enable: yes
  control-interface: 127.0.0.1
  control-port: $CONTROL_PORT
  control-use-cert: no
forward-zone:
  name: "."
  forward-first: no
EOF
    for a in "$@"; do printf '  forward-addr: %s\n' "$a"; done
  } >"$CONF.new"
  mv -f "$CONF.new" "$CONF"
}

unbound_pid=""
stop_unbound() {
  [[ -n $unbound_pid ]] || return 0
  kill -TERM "$unbound_pid" 2>/dev/null || true
  wait "$unbound_pid" 2>/dev/null || true
  unbound_pid=""
}
start_unbound() {
  render "$@"
  unbound -d -p -c "$CONF" &
  unbound_pid=$!
  log info "resolver started" listen "$LISTEN:$PORT" upstream "$*" pid "$unbound_pid"
}

stopping=0
trap 'stopping=1' TERM INT
log info "waiting for the exit resolver" upstream_file "$DNS_DIR/upstream"
applied=""
while ((!stopping)); do
  want=$(read_upstream)
  if [[ $want != "$applied" ]]; then
    stop_unbound
    if [[ -n $want ]]; then
      # shellcheck disable=SC2086 # a list of addresses
      start_unbound $want
    else
      log warn "no exit resolver known: DNS from the LAN fails until the tunnel names one" upstream_file "$DNS_DIR/upstream"
    fi
    applied=$want
  fi
  if [[ -n $unbound_pid ]] && ! kill -0 "$unbound_pid" 2>/dev/null; then
    rc=0
    wait "$unbound_pid" || rc=$?
    log error "unbound exited; the container restarts" status "$rc"
    exit 1
  fi
  sleep 1 &
  wait $! || true
done
stop_unbound
log info "resolver stopped"
