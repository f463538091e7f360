#!/usr/bin/env bash
# Installs, only when missing, the Debian packages that rcptguard's tests need:
# a real Postfix (and its tools), swaks, miltertest, PostgreSQL, Chromium
# with a font for screenshots, and for the Debian package's test systemd
# (systemd-analyze verify), adduser (its postinst) and util-linux (setpriv). Idempotent and quick when everything is present.
# Runs as root (or via sudo when available) on Debian 12; non-interactive.
set -euo pipefail

PACKAGES=(postfix swaks miltertest postgresql chromium fonts-dejavu-core systemd adduser util-linux)

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

missing=()
for p in "${PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-test-deps: all present (${PACKAGES[*]})"
	exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "install-test-deps: need root to install: ${missing[*]}" >&2
		exit 1
	fi
fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# "No configuration": no main.cf and no /etc/mailname; tests write their own config.
echo "postfix postfix/main_mailer_type select No configuration" | "${SUDO[@]}" debconf-set-selections
# Wait for a concurrent apt/dpkg run instead of failing on its lock.
APT_OPTS=(-o DPkg::Lock::Timeout=300)
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"

for p in "${PACKAGES[@]}"; do
	if ! installed "$p"; then
		echo "install-test-deps: $p is still missing after apt-get install" >&2
		exit 1
	fi
done
echo "install-test-deps: done"
