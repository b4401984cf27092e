#!/usr/bin/env bash
# Installs the system tools pathmtu's lab, tests and benchmarks use, when missing (Debian/Ubuntu, as root).
#   lab:    iproute2 (ip netns, veth, vxlan), nftables (routers that drop their ICMP errors),
#           iptables (explain's fix commands are applied for real in a namespace, both firewall forms)
#   tests:  iputils-ping, nginx-light (a real HTTP server for check-server), python3, gcc/make (node-gyp),
#           procps (sysctl: doctor's fixes are applied as printed in a namespace),
#           util-linux setpriv/unshare and mount (children run as nobody with the checkout out of reach)
#   pack:   g++-aarch64-linux-gnu (the linux-arm64 prebuilt binary is cross-compiled), binutils
#           (readelf/nm check each prebuilt binary's ELF machine and its Node-API entry point), qemu-user
#           (qemu-aarch64 loads the arm64 binary with the arm64 dynamic linker; no binfmt is registered)
#   bench:  iputils-tracepath, nmap, scamper (the peers we measure against), time (GNU time: peak RSS
#           of whole processes in the many-target bench)
#   serve:  prometheus (prometheus, promtool: the serve lab test runs its own scraper on loopback in a
#           lab namespace; promtool checks the example config and unit-tests the alert rules),
#           prometheus-blackbox-exporter (the serve bench runs it beside pathmtu serve); both packages'
#           system services are stopped and disabled after install
set -euo pipefail
need=()
for tool in ip:iproute2 nft:nftables iptables:iptables ping:iputils-ping tracepath:iputils-tracepath nmap:nmap \
            scamper:scamper nginx:nginx-light gcc:gcc g++:g++ make:make python3:python3 setpriv:util-linux sysctl:procps \
            aarch64-linux-gnu-g++:g++-aarch64-linux-gnu readelf:binutils nm:binutils qemu-aarch64:qemu-user \
            unshare:util-linux mount:mount prometheus:prometheus promtool:prometheus \
            prometheus-blackbox-exporter:prometheus-blackbox-exporter; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
# GNU time: not the shell's `time` keyword, so look for the binary itself.
[ -x /usr/bin/time ] || need+=(time)
[ "${#need[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "pathmtu: missing system packages: ${need[*]} (install them as root, e.g. apt-get install ${need[*]})" >&2
  exit 1
fi
echo "pathmtu: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Package scripts must not start services (Prometheus' own would listen on :9090 on every address,
# blackbox_exporter's on :9115).
policy=/usr/sbin/policy-rc.d
[ -e "$policy" ] || { printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; trap 'rm -f "$policy"' EXIT; }
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus.service prometheus-blackbox-exporter.service >/dev/null 2>&1 || true
fi

