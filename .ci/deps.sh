#!/usr/bin/env bash
# Installs the Debian packages anycast-harness needs to build, test and run
# its labs, only those missing; a no-op when everything is present. Daemons
# that Debian would start on install (nsd, knot, bird, bind9, unbound, pdns,
# dnsdist) are kept from starting in the host namespace: the project runs them
# only inside its own labs and tests.
set -euo pipefail

PKGS=(
  gcc make pkg-config clang clang-format libclang-rt-14-dev
  libuv1-dev libldns-dev check libsubunit-dev libmnl-dev libyaml-dev libjansson-dev
  libmicrohttpd-dev prometheus
  iproute2 procps psmisc socat jq python3 util-linux
  dnsutils knot-dnsutils dnsperf nsd knot bird2 gnuplot-nox
  bind9 unbound pdns-server pdns-backend-bind dnsdist
  chromium-headless-shell time openssh-client openssh-server faketime
  help2man lowdown man-db bash-completion tcpdump python3-junitparser
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "deps: installing ${missing[*]}"
# A temporary policy-rc.d keeps postinst scripts from starting services; it is
# removed again only if this script created it.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 0755 /usr/sbin/policy-rc.d
  made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
