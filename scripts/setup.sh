#!/usr/bin/env bash
# One-command set-up for Community Safety Segmentation on Debian 12 (or Ubuntu).
# Idempotent: installs Debian's QGIS, xvfb and zip when missing, creates .venv with access to
# QGIS's Python bindings, and installs the engine's dependencies plus the test tools.
# Prints nothing when there is nothing to do.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.setup-stamp"
# python3-pip: QGIS's Python installs the engine's packages with it (the plugin's Install
# button, and the desktop test that clicks it)
# chromium: the tests open the partner report in a real browser
debian_packages=(python3-qgis qgis-providers qgis xvfb zip python3-venv python3-pip chromium)

say() { printf 'setup: %s\n' "$*" >&2; }

missing_debian_packages() {
    local pkg
    for pkg in "${debian_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

missing=$(missing_debian_packages)
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing Debian packages: $(echo $missing | tr '\n' ' ')"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The venv must be made by Debian's Python: QGIS's bindings import only there.
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv"
fi

# Re-install the Python packages only when their declaration changed.
wanted=$(sha256sum "$root/pyproject.toml" "$root/constraints.txt" "$root/scripts/setup.sh" \
    | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    say "installing Python packages into .venv"
    log="$venv/pip-install.log"
    pip=("$venv/bin/python" -m pip install --disable-pip-version-check)
    # The supported ranges come from constraints.txt, with numpy pinned to Debian's own, as
    # the plugin's Install button pins it to the numpy QGIS has loaded: the tests then run
    # with the versions a QGIS user gets, and Debian's GDAL bindings keep their numpy.
    mapfile -t requirements < <(/usr/bin/python3 "$root/core/dependencies.py" --pin-numpy)
    if ! { "${pip[@]}" --upgrade "pip>=23" "setuptools>=77" &&
           "${pip[@]}" -e "$root[dev]" "${requirements[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        say "installing the Python packages failed (log above, also in $log)"
        exit 1
    fi
    echo "$wanted" > "$stamp"
fi
