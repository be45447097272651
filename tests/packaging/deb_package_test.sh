#!/usr/bin/env bash
# The Debian package installs, runs and goes away cleanly:
#   cpack builds it from BUILD_DIR; dpkg -i installs it on this machine (a
#   disposable test machine: CI runs as root); the installed slipwayd starts
#   from /usr/bin as the slipway user with the installed slipway.ini (moved to
#   a free loopback port and a temporary state folder) and the secrets postinst
#   made, handed over the way LoadCredential= would; /healthz and the API token
#   answer; SIGTERM stops it; dpkg -r keeps only the conffile and the state;
#   dpkg --purge leaves only the slipway user, which Debian policy keeps.
# Everything it made is removed at the end, the user too when it made it.
# Usage: deb_package_test.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: deb_package_test.sh BUILD_DIR}")

fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "this test installs a package with dpkg and needs root (scripts/test.sh runs as root)"
state=$(dpkg-query -W -f='${db:Status-Status}' slipway 2>/dev/null || true)
if [ -n "$state" ] && [ "$state" != not-installed ]; then
  fail "the slipway package is already on this machine ($state); this test installs and purges it, so it will not run over an installation it did not make"
fi
made_user=true
getent passwd slipway >/dev/null && made_user=false

work=$(mktemp -d)
chmod 0711 "$work"  # the slipway user reaches its own folders inside
pid=
installed=false
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; fi
  if $installed; then dpkg --purge slipway >/dev/null 2>&1 || true; fi
  if $made_user && getent passwd slipway >/dev/null; then
    userdel slipway || true
    getent group slipway >/dev/null && groupdel slipway || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== cpack"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/cpack" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack could not build the package"; }
deb=$(ls "$work"/cpack/slipway_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
recommends=$(dpkg-deb -f "$deb" Recommends)
echo "Depends: $depends"
echo "Recommends: $recommends"
for lib in libgit2 libpoconet80 libpoconetssl80 libsqlite3 libssl3 libsimdjson adduser; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib (dpkg-shlibdeps should have found it)"
done
for pkg in docker.io docker-registry; do
  [[ "$recommends" == *"$pkg"* ]] || fail "Recommends lacks $pkg"
done

echo "== dpkg -i"
installed=true
dpkg -i "$deb" || fail "dpkg -i failed"
for file in /usr/bin/slipwayd /etc/slipway/slipway.ini /lib/systemd/system/slipway.service /lib/systemd/system/slipway.socket \
  /usr/lib/sysusers.d/slipway.conf /usr/lib/tmpfiles.d/slipway.conf /usr/share/doc/slipway/README.md; do
  [ -f "$file" ] || fail "$file was not installed"
done
dpkg-query -W -f='${Conffiles}\n' slipway | grep -q "/etc/slipway/slipway.ini" || fail "slipway.ini is not a conffile"
getent passwd slipway >/dev/null || fail "postinst did not create the slipway user"
id -nG slipway | tr ' ' '\n' | grep -qx docker || fail "postinst did not add slipway to the docker group"
[ "$(stat -c '%U:%G %a' /var/lib/slipway)" = "slipway:slipway 750" ] ||
  fail "/var/lib/slipway is $(stat -c '%U:%G %a' /var/lib/slipway), not slipway:slipway 750"
for secret in /etc/slipway/webhook.secret /etc/slipway/api.token; do
  [ -s "$secret" ] || fail "postinst did not make $secret"
  [ "$(stat -c '%U:%G %a' "$secret")" = "root:root 600" ] || fail "$secret is $(stat -c '%U:%G %a' "$secret")"
done
/usr/bin/slipwayd --version | grep -q '^slipwayd ' || fail "slipwayd --version"

echo "== the installed slipwayd, as slipway"
# What LoadCredential= does: a copy of each secret that only the service user reads.
mkdir -m 0700 "$work/credentials"
cp /etc/slipway/webhook.secret /etc/slipway/api.token "$work/credentials/"
chown -R slipway:slipway "$work/credentials"
install -d -m 0750 -o slipway -g slipway "$work/state"
port=
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 40000))
  if [ -z "$(ss -Htln "sport = :$candidate")" ]; then port=$candidate; break; fi
done
[ -n "$port" ] || fail "found no free loopback port"
sed -e "s#^listen = .*#listen = 127.0.0.1:$port#" -e "s#^state_dir = .*#state_dir = $work/state#" \
  /etc/slipway/slipway.ini >"$work/slipway.ini"
as_slipway=(setpriv --reuid=slipway --regid=slipway --init-groups --reset-env
  env "CREDENTIALS_DIRECTORY=$work/credentials")
"${as_slipway[@]}" /usr/bin/slipwayd --config "$work/slipway.ini" --check-config ||
  fail "slipwayd --check-config refuses the installed slipway.ini"
"${as_slipway[@]}" /usr/bin/slipwayd --config "$work/slipway.ini" >"$work/slipwayd.log" 2>&1 &
pid=$!
healthy=false
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then healthy=true; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
$healthy || { cat "$work/slipwayd.log"; fail "the installed slipwayd did not answer /healthz on port $port"; }
[ "$(ps -o user= -p "$pid")" = slipway ] || fail "slipwayd runs as $(ps -o user= -p "$pid"), not slipway"
[ -f "$work/state/slipway.db" ] || fail "no slipway.db in the state folder"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/builds")" = 401 ] ||
  fail "/api/builds answered without the token from api.token"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat /etc/slipway/api.token)" \
  "http://127.0.0.1:$port/api/builds")" = 200 ] || fail "/api/builds refused the token from api.token"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || { cat "$work/slipwayd.log"; fail "slipwayd exited $status on SIGTERM"; }
grep -q "stopped" "$work/slipwayd.log" || fail "slipwayd did not log its stop"

echo "== dpkg -r"
dpkg -r slipway || fail "dpkg -r failed"
for file in /usr/bin/slipwayd /lib/systemd/system/slipway.service /usr/lib/sysusers.d/slipway.conf \
  /usr/lib/tmpfiles.d/slipway.conf /usr/share/doc/slipway; do
  [ ! -e "$file" ] || fail "dpkg -r left $file"
done
[ -f /etc/slipway/slipway.ini ] || fail "dpkg -r removed the conffile, which only purge may"
[ -d /var/lib/slipway ] || fail "dpkg -r removed the state, which only purge may"

echo "== dpkg --purge"
dpkg --purge slipway || fail "dpkg --purge failed"
installed=false
for path in /etc/slipway /var/lib/slipway; do
  [ ! -e "$path" ] || fail "dpkg --purge left $path"
done
[ "$(dpkg-query -W -f='${db:Status-Status}' slipway 2>/dev/null || echo not-installed)" = not-installed ] ||
  fail "dpkg still knows slipway after purge"
getent passwd slipway >/dev/null || fail "purge removed the slipway user, which Debian policy says to keep"
echo "ok: the package installs, runs as slipway, and removes cleanly"
