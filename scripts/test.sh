#!/usr/bin/env bash
# Runs every test of rcptguard: installs what the tests need when it is missing (Debian
# packages, as root), then gofmt, go vet and the Go tests with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
export CGO_ENABLED="${CGO_ENABLED:-1}" # the race detector needs cgo; the binary does not

if [ "$(id -u)" -eq 0 ]; then
	bash scripts/install-test-deps.sh
else
	echo "test.sh: not root, so not installing test dependencies" >&2
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
CGO_ENABLED=0 go build -o /dev/null ./cmd/rcptguard
# The Debian package (docs/install.md); packaging/debian's test installs this very file.
RCPTGUARD_DEB="$PWD/$(bash scripts/package.sh dist/rcptguard-test.deb | tail -n 1)"
export RCPTGUARD_DEB
# The browser tests save PNG screenshots of the validation page and the admin pages here.
export RCPTGUARD_SCREENSHOTS="${RCPTGUARD_SCREENSHOTS:-$PWD/.screenshots}"
mkdir -p "$RCPTGUARD_SCREENSHOTS"
go test -race -count=1 -timeout 15m ./...
echo "screenshots of the validation and admin pages: $RCPTGUARD_SCREENSHOTS"
