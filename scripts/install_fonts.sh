#!/usr/bin/env bash
# Install a CJK font with TrueType outlines so Chinese figure labels render
# (no empty boxes) in PNG and embed properly in PDF (pdf.fonttype 42).
#
# We use Debian's fonts-wqy-microhei (WenQuanYi Micro Hei, a .ttc with glyf
# outlines). Noto CJK is avoided on purpose: its CFF-based OpenType outlines
# embed badly as TrueType in matplotlib's PDF backend.
#
# Idempotent: a fast no-op when the font is already installed.
# Exits non-zero with a clear message when it cannot install.
# Usage: scripts/install_fonts.sh   (or: make fonts)
set -euo pipefail

readonly PACKAGE="fonts-wqy-microhei"
readonly FONT_FILE="/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

font_present() {
    [[ -f "$FONT_FILE" ]] && return 0
    command -v fc-list >/dev/null 2>&1 \
        && fc-list :lang=zh family file 2>/dev/null | grep -qi 'wqy-microhei\|WenQuanYi Micro Hei'
}

if font_present; then
    echo "install_fonts: WenQuanYi Micro Hei already installed (${FONT_FILE}); nothing to do."
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_fonts: ERROR: apt-get not found; install the ${PACKAGE} package (WenQuanYi Micro Hei)" \
         "with your system's package manager, or place wqy-microhei.ttc in a font directory." >&2
    exit 1
fi

if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "install_fonts: ERROR: need root (or password-less sudo) to run 'apt-get install ${PACKAGE}'." \
         "Ask an administrator to run: sudo apt-get update && sudo apt-get install -y ${PACKAGE}" >&2
    exit 1
fi

echo "install_fonts: installing ${PACKAGE} with apt-get ..."
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get update -qq; then
    echo "install_fonts: ERROR: 'apt-get update' failed (no network or no package sources?)." >&2
    exit 1
fi
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGE}"; then
    echo "install_fonts: ERROR: 'apt-get install ${PACKAGE}' failed." >&2
    exit 1
fi

if command -v fc-cache >/dev/null 2>&1; then
    "${SUDO[@]}" fc-cache -f >/dev/null 2>&1 || true
fi

if ! font_present; then
    echo "install_fonts: ERROR: ${PACKAGE} was installed but ${FONT_FILE} is missing." >&2
    exit 1
fi
echo "install_fonts: installed WenQuanYi Micro Hei (${FONT_FILE})."
# matplotlib caches its font list; analysis.plots registers the file itself
# (font_manager.fontManager.addfont), so no cache rebuild is needed.
