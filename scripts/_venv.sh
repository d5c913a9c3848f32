# Sourced by scripts/start and scripts/test: a project-local virtualenv with the given requirements.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python_bin="$candidate"; break; fi
  done
fi
[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$1"

# apt_install_missing WHAT CHECK PACKAGE...: install Debian packages once, quietly, when CHECK (a command or an
# executable file) is missing; as root, or with sudo without a password. Otherwise it says so on stderr and
# carries on: what needs them reports their absence itself (the meeting PDF writes a note instead of charts).
apt_install_missing() {
  local what="$1" check="$2" log
  shift 2
  if command -v "$check" >/dev/null 2>&1 || [ -x "$check" ]; then return 0; fi
  local as_root=(false)
  if [ "$(id -u)" -eq 0 ]; then as_root=(); elif command -v sudo >/dev/null 2>&1; then as_root=(sudo -n); fi
  echo "Installing $* for $what..."
  log="$(mktemp)"
  # the package lists are read once per script run
  if ! { { [ -n "${_apt_updated:-}" ] ||
           "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 update; } &&
         _apt_updated=1 &&
         "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 install -y \
           --no-install-recommends "$@"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "Could not install $* (needs root or sudo): $what will be missing." >&2
  fi
  rm -f "$log"
}
