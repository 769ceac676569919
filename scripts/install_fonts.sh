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

# shellcheck source=scripts/apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"
apt_install install_fonts "${PACKAGE}"

if ! font_present; then
    echo "install_fonts: ERROR: ${PACKAGE} was installed but ${FONT_FILE} is missing." >&2
    exit 1
fi
echo "install_fonts: installed WenQuanYi Micro Hei (${FONT_FILE})."
# matplotlib caches its font list; analysis.plots registers the file itself
# (font_manager.fontManager.addfont), so no cache rebuild is needed.
