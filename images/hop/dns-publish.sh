# shellcheck shell=bash
# The gateway resolver's upstream: which resolver(s) the hop's DNS forwarder (images/hop/dns.sh, the `dns`
# container) sends every query to. Sourced by images/hop/entrypoint.sh (the per-chain override and the resolvers the
# config names) and by the protocol hooks that learn what the server pushes (vpn/openvpn-up.sh,
# vpn/openconnect.sh). Nothing here parses a server config: the operator's protocol modules do that.
#
# The upstream is one file, $TORCHAIN_DNS_DIR/upstream (an emptyDir shared with the `dns` container, read-only
# there), in resolv.conf syntax; the forwarder polls it and restarts on a change, so it follows a new exit resolver
# without any signal between containers. Each upstream address is routed into the tunnel (main table, proto 73):
# the resolver's queries originate in this pod, and the kill switch (dns_guard) drops any that would leave elsewhere.
#
# Precedence: TORCHAIN_DNS_SERVERS (set per chain) > what the server pushes > what the config names.
# Needs: TORCHAIN_DNS_DIR, TORCHAIN_TUN_IF; iproute2, coreutils.

readonly DNS_UPSTREAM_NAME=upstream

# dns_ipv4 ADDRESS: a dotted-quad IPv4 address that can be a resolver (not 0.0.0.0, loopback, multicast or broadcast).
dns_ipv4() {
  local o
  [[ $1 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
  for o in "${BASH_REMATCH[@]:1}"; do ((10#$o <= 255)) || return 1; done
  local first=$((10#${BASH_REMATCH[1]}))
  ((first != 0 && first != 127 && first < 224))
}

# dns_split LIST: comma- or space-separated addresses, one per line (empty items dropped).
dns_split() {
  local item
  for item in ${1//,/ }; do printf '%s\n' "$item"; done
}

# dns_publish SOURCE ADDRESS...: routes every address into the tunnel and replaces the upstream file atomically.
# Addresses that are not resolver IPv4 addresses are skipped (and said); nothing is written when none is left.
dns_publish() {
  local source=$1 a dir=${TORCHAIN_DNS_DIR:?} tmp
  shift
  local good=()
  for a in "$@"; do
    if dns_ipv4 "$a"; then good+=("$a"); else dns_log warn "ignoring a DNS server that is not an IPv4 resolver address" source "$source" value "$a"; fi
  done
  ((${#good[@]} > 0)) || return 0
  ((${#good[@]} <= 3)) || good=("${good[@]:0:3}") # the forwarder's limit, as resolv.conf's
  for a in "${good[@]}"; do
    ip -4 route replace "$a/32" dev "${TORCHAIN_TUN_IF:?}" proto 73
  done
  tmp=$(mktemp "$dir/.upstream.XXXXXX")
  {
    printf '# torchain: the exit resolvers (%s); written by the vpn container, read by the dns container\n' "$source"
    printf 'nameserver %s\n' "${good[@]}"
  } >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$dir/$DNS_UPSTREAM_NAME"
  dns_log info "DNS upstream set" source "$source" servers "${good[*]}"
}

# dns_forget: no upstream until one is known again (a restarted hop must not forward to the previous server's).
dns_forget() {
  rm -f "${TORCHAIN_DNS_DIR:?}/$DNS_UPSTREAM_NAME"
}

# dns_pushed SOURCE ADDRESS...: what the server pushed, unless the chain sets its own resolvers.
dns_pushed() {
  local source=$1
  shift
  [[ ${TORCHAIN_DNS:-0} == 1 ]] || return 0
  if [[ -n ${TORCHAIN_DNS_SERVERS:-} ]]; then
    (($# == 0)) || dns_log info "the server pushed DNS servers; the chain's own (TORCHAIN_DNS_SERVERS) stay" source "$source" pushed "$*"
    return 0
  fi
  (($# > 0)) || return 0
  dns_publish "$source" "$@"
}

# dns_log LEVEL MESSAGE [KEY VALUE]...: the hop's logger (log.sh), loaded here when the entrypoint did not.
dns_log() {
  # shellcheck source=log.sh
  declare -F log >/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/log.sh"
  log "$@"
}
