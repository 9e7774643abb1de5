#!/usr/bin/env bash
# Install everything the project needs on a fresh Debian machine: Debian packages, the
# virtualenv with every Python package, and compiled translations. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# gettext: compiled translations; fonts-wqy-zenhei: Chinese in PDFs and screenshots;
# poppler-utils: pdffonts/pdftotext checks of the checklist; chromium: kiosk browser tests;
# openssl: the independent judge of our CMS files; nginx: the host-to-host mTLS gateway; zbar-tools:
# the independent QR decoder; pgbouncer: transaction pooling (tests/faults/test_pgbouncer.py).
apt_packages=(gettext fonts-wqy-zenhei poppler-utils chromium openssl ca-certificates nginx zbar-tools pgbouncer)
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then apt_packages+=(python3-venv); fi
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# Reinstall only when pyproject.toml changed since the last install.
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  .venv/bin/python -m pip install -q -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if [ -d locale ]; then
  (cd locale/.. && DJANGO_SETTINGS_MODULE=config.settings.base .venv/bin/python manage.py compilemessages \
      --ignore .venv --ignore var --ignore node_modules -v 0)
fi
