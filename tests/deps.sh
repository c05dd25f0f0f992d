#!/bin/sh
# deps.sh - install the Debian 12 packages radscribe builds and tests with.
# Idempotent: does nothing when everything is there.  Needs root (or sudo).
set -eu

PKGS="autoconf automake libtool pkg-config make gcc g++ \
libdcmtk-dev dcmtk libopenjp2-7-dev libopenjp2-tools libsndfile1-dev libtiff-dev libssl-dev zlib1g-dev \
libopenblas-dev libxml2-dev libsqlite3-dev sqlite3 libcmocka-dev \
libjson-c-dev libpng-dev mandoc man-db \
orthanc dicom3tools pixelmed-apps libgdcm-tools odil ctn \
clang libclang-rt-14-dev python3 python3-numpy python3-pydicom python3-pil python3-sentencepiece python3-torch procps iproute2 util-linux"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps.sh: installing:$missing" >&2
# Orthanc's package would start a system service; tests start their own.
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	made_policy=1
fi
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
[ -z "$made_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
