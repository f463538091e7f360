#!/usr/bin/env bash
# Builds rcptguard's Debian package: the binary with CGO_ENABLED=0, then tools/mkdeb packs
# it with the files in packaging/debian (nfpm as a Go library, no packaging tool needed).
#
#   scripts/package.sh [OUT.deb]     (default: dist/rcptguard_VERSION_ARCH.deb)
#
# VERSION is $RCPTGUARD_VERSION, else 0.0.0~git<commit date>.<short hash>, else 0.0.0~dev.
# Prints the path of the package on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

arch=$(go env GOARCH)
version="${RCPTGUARD_VERSION:-}"
if [ -z "$version" ]; then
	if stamp=$(git log -1 --format='%cd.%h' --date='format:%Y%m%d%H%M%S' 2>/dev/null); then
		version="0.0.0~git$stamp"
	else
		version="0.0.0~dev"
	fi
fi
out="${1:-dist/rcptguard_${version}_${arch}.deb}"
mkdir -p "$(dirname "$out")"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$work/rcptguard" ./cmd/rcptguard
CGO_ENABLED=0 go run ./tools/mkdeb -binary "$work/rcptguard" -version "$version" -arch "$arch" -out "$out"
echo "$out"
