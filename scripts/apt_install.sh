# Shared by install_system_deps.sh and install_fonts.sh (sourced, not run):
#   apt_install TOOL PACKAGE...
# installs Debian packages with apt-get as root (or password-less sudo), refreshes the
# font cache, and exits non-zero with a message prefixed by TOOL when it cannot.

apt_install() {
    local tool="$1"
    shift
    local packages=("$@")
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "${tool}: ERROR: apt-get not found; install these Debian packages (or your system's" \
             "equivalents) by hand: ${packages[*]}" >&2
        exit 1
    fi
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            echo "${tool}: ERROR: need root (or password-less sudo) for apt-get. Ask an administrator to run:" \
                 "sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages[*]}" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    echo "${tool}: apt-get update ..."
    if ! "${sudo[@]}" apt-get update -qq; then
        echo "${tool}: ERROR: 'apt-get update' failed (no network or no package sources?)." >&2
        exit 1
    fi
    echo "${tool}: apt-get install ${packages[*]} ..."
    if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"; then
        echo "${tool}: ERROR: 'apt-get install ${packages[*]}' failed." >&2
        exit 1
    fi
    if command -v fc-cache >/dev/null 2>&1; then
        "${sudo[@]}" fc-cache -f >/dev/null 2>&1 || true
    fi
}
