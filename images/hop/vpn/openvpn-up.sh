# shellcheck shell=bash
# OpenVPN's --up script on the hop that serves DNS (vpn/openvpn.sh adds it only there, with --up-restart): after
# each (re)connection OpenVPN hands the options the server pushed (and the config's own) as foreign_option_<n>
# variables; the resolvers among them become the gateway resolver's upstream (dns-publish.sh). It sets no route
# and no resolv.conf: the entrypoint owns those. Always exits 0: a failure here must not tear the tunnel down.
#
# Resolvers come as `dhcp-option DNS <address>` (the classic push) or, from OpenVPN 2.6 servers that push `dns`,
# as dns_server_<n>_address_<m>. IPv6 resolvers are skipped (the forwarder and the chain are IPv4).
set -uo pipefail
# shellcheck source=../dns-publish.sh
source "$(dirname "${BASH_SOURCE[0]}")/../dns-publish.sh"

pushed=()
for ((i = 1; i < 1000; i++)); do
  var=foreign_option_$i
  [[ -n ${!var+x} ]] || break
  read -r opt kind value _ <<<"${!var}"
  [[ $opt == dhcp-option && ${kind^^} == DNS ]] && pushed+=("$value")
done
while IFS='=' read -r name value; do
  [[ $name =~ ^dns_server_[0-9]+_address_[0-9]+$ && $value =~ ^([0-9.]+)(:[0-9]+)?$ ]] && pushed+=("${BASH_REMATCH[1]}")
done < <(env)
v4=()
for a in "${pushed[@]}"; do dns_ipv4 "$a" && v4+=("$a"); done
dns_pushed "pushed by the openvpn server" "${v4[@]}" || dns_log error "could not set the DNS upstream pushed by the server"
exit 0
