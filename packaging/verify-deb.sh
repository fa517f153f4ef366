#!/bin/sh
# Installs a built sahih .deb on this machine, checks it, and removes every trace again.
# Needs root; not part of the default test run (it changes the machine while it runs).
#   sudo packaging/verify-deb.sh path/to/sahih_*.deb
# Checks: dpkg -i succeeds; the `sahih` system user exists with home /var/lib/sahih;
# /var/lib/sahih is 0700 sahih:sahih; /etc/sahih is 0750 root:sahih; `systemd-analyze verify`
# accepts the unit; `sahih-setup` initialises a data directory as the service user; `sahih
# doctor --no-http` runs clean as that user (and once more with the unit's environment
# applied by systemd-run when systemd is PID 1). Then purge, and remove the data, /etc/sahih
# and the user, which purge deliberately keeps.
set -eu

deb=${1:?usage: verify-deb.sh SAHIH.deb}
[ "$(id -u)" -eq 0 ] || { echo "verify-deb: run as root" >&2; exit 2; }
if dpkg -s sahih >/dev/null 2>&1 || [ -e /var/lib/sahih ] || [ -e /etc/sahih ] || getent passwd sahih >/dev/null; then
    echo "verify-deb: sahih is already installed or left traces here; refusing to touch them" >&2
    exit 2
fi

cleanup() {
    dpkg --purge sahih >/dev/null 2>&1 || true
    rm -rf /var/lib/sahih /etc/sahih
    if getent passwd sahih >/dev/null; then deluser --quiet --system sahih >/dev/null 2>&1 || userdel sahih || true; fi
    if getent group sahih >/dev/null; then delgroup --quiet --system sahih >/dev/null 2>&1 || groupdel sahih || true; fi
}
trap cleanup EXIT

step() { printf '== %s\n' "$*"; }

step "dpkg -i"
dpkg -i "$deb"

step "user, directories, modes"
getent passwd sahih | grep -q ':/var/lib/sahih:' || { echo "no sahih user with home /var/lib/sahih"; exit 1; }
[ "$(stat -c '%a %U:%G' /var/lib/sahih)" = "700 sahih:sahih" ] || { stat -c '%a %U:%G' /var/lib/sahih; exit 1; }
[ "$(stat -c '%a %U:%G' /etc/sahih)" = "750 root:sahih" ] || { stat -c '%a %U:%G' /etc/sahih; exit 1; }
[ "$(stat -c '%a %U:%G' /etc/sahih/sahih.env)" = "640 root:sahih" ] || { stat -c '%a %U:%G' /etc/sahih/sahih.env; exit 1; }
[ -x /usr/bin/sahih ] && /usr/bin/sahih --version

step "systemd-analyze verify"
systemd-analyze verify /lib/systemd/system/sahih.service

step "sahih-setup (init as the service user)"
sahih-setup --org "Pemerintah Kota Contoh" --base-url http://127.0.0.1:8080
[ -L /var/lib/sahih/config.toml ] && [ -L /var/lib/sahih/master.key ]
[ "$(stat -c '%a %U' /etc/sahih/master.key)" = "600 sahih" ] || { stat -c '%a %U' /etc/sahih/master.key; exit 1; }

step "sahih doctor as the service user"
runuser -u sahih -- /usr/bin/sahih --data /var/lib/sahih --lang en doctor --no-http

if [ -d /run/systemd/system ]; then
    step "start the unit and ask /healthz through doctor"
    systemctl start sahih.service
    sleep 2
    runuser -u sahih -- /usr/bin/sahih --data /var/lib/sahih --lang en doctor
    systemctl stop sahih.service
else
    step "systemd is not PID 1 here: the unit was verified, not started"
fi

step "dpkg --purge, then remove the data it keeps"
dpkg --purge sahih
[ ! -e /usr/bin/sahih ] && [ ! -e /lib/systemd/system/sahih.service ]
cleanup
trap - EXIT
step "clean: no package, no /var/lib/sahih, no /etc/sahih, no sahih user"
! dpkg -s sahih >/dev/null 2>&1 && [ ! -e /var/lib/sahih ] && [ ! -e /etc/sahih ] && ! getent passwd sahih >/dev/null
echo "verify-deb: OK"
