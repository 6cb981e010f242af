#!/usr/bin/env bash
# Installs the Debian packages the test suite talks to, when missing. Called by .ci/run; safe to re-run.
# Never starts a service unit: tests run every daemon themselves on 127.0.0.1.
set -euo pipefail

# command-on-PATH (or an absolute path the package installs)  debian-package
REQUIRED=(
  "openssl openssl"
  "redis-server redis-server"
  # interop with the real Jami daemon (test/support/jamid.ts): daemon, private bus, local DHT node,
  # namespaces, and the python3-dbus driver run with /usr/bin/python3.
  "/usr/libexec/jamid jami-daemon"
  "dbus-daemon dbus"
  "dhtnode dhtnode"
  "ip iproute2"
  "nsenter util-linux"
  "/usr/lib/python3/dist-packages/dbus/__init__.py python3-dbus"
  "/usr/lib/python3/dist-packages/gi/__init__.py python3-gi"
  # LDAP / Active Directory integration (test/support/slapd.ts): slapd run on a throw-away config, and the
  # ldap-utils CLIs (ldapsearch, ldapadd, ldapwhoami...) that seed and query it.
  "/usr/sbin/slapd slapd"
  "ldapsearch ldap-utils"
  # TURN relaying through the peer core (test/support/coturn.ts): the turnserver binary, run by the tests on
  # 127.0.0.1 with its own arguments; the package's service unit is never started.
  "turnserver coturn"
  # The console's browser tests drive a real Chromium (headless).
  "chromium chromium"
)

missing=()
for pair in "${REQUIRED[@]}"; do
  read -r cmd pkg <<<"$pair"
  if [[ "$cmd" == /* ]]; then
    [ -e "$cmd" ] || missing+=("$pkg")
  else
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps Debian from starting the packages' service units during installation.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created_policy=1
fi
trap '[ $created_policy -eq 1 ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
