#!/usr/bin/env bash
# Install the system tools the tests and the report need, with Debian's apt-get:
#
#   fonts-wqy-microhei        CJK font for the figures (TrueType outlines; see install_fonts.sh)
#   chromium chromium-driver  headless browser for the HTML report's browser test (Selenium)
#   texlive-xetex             XeLaTeX, to compile every exported .tex table
#   texlive-lang-chinese      ctex (+ xeCJK and the Fandol fonts it uses by default)
#   libreoffice-calc-nogui    headless LibreOffice, to check the workbook's print layout (xlsx -> PDF)
#
# This is the smallest set that compiles a ctex document with XeLaTeX (texlive-xetex
# pulls texlive-latex-extra, which holds tabularx/longtable/booktabs/pdflscape).
# --no-install-recommends keeps the documentation and extra fonts out.
#
# Idempotent: a fast no-op when every tool is present.  Exits non-zero with a clear
# message when it cannot install.  Usage: scripts/install_system_deps.sh (or: make system-deps)
set -euo pipefail

readonly PACKAGES=(fonts-wqy-microhei chromium chromium-driver texlive-xetex texlive-lang-chinese libreoffice-calc-nogui)

missing_tools() {
    local missing=()
    [[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] || missing+=(fonts-wqy-microhei)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
    command -v xelatex >/dev/null 2>&1 || missing+=(texlive-xetex)
    kpsewhich ctex.sty >/dev/null 2>&1 || missing+=(texlive-lang-chinese)
    command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui)
    echo "${missing[@]:-}"
}

missing="$(missing_tools)"
if [[ -z "${missing// /}" ]]; then
    echo "install_system_deps: chromium, chromedriver, xelatex + ctex, soffice and the CJK font are installed; nothing to do."
    exit 0
fi
echo "install_system_deps: missing: ${missing}"

# shellcheck source=scripts/apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"
apt_install install_system_deps "${PACKAGES[@]}"

missing="$(missing_tools)"
if [[ -n "${missing// /}" ]]; then
    echo "install_system_deps: ERROR: installed, but still missing: ${missing}" >&2
    exit 1
fi
echo "install_system_deps: done."
