#!/usr/bin/env bash
# Debian packages the project needs: CJK fonts and Pango for WeasyPrint PDFs, poppler for
# checking PDFs, Chromium for browser tests, gettext for translations.
# Installs only what is missing; needs root (or sudo) to install.
set -euo pipefail
PKGS=(fonts-noto-cjk fontconfig libpango-1.0-0 libpangoft2-1.0-0 poppler-utils gettext chromium)
[[ "${1:-}" == "--runtime" ]] && PKGS=(fonts-noto-cjk fontconfig libpango-1.0-0 libpangoft2-1.0-0)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "缺少系统软件包：${missing[*]}。请以 root 身份运行：apt-get install -y ${missing[*]}" >&2
    exit 0
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "缺少系统软件包：${missing[*]}（非 Debian 系统，请手动安装）。" >&2
  exit 0
fi
echo "安装系统软件包：${missing[*]}"
$SUDO apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
