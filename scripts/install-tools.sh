#!/usr/bin/env bash
# Installs what `make test` and `make demo` need and a fresh Debian machine
# of this kind lacks: git, ssh-keygen (decision signatures are checked
# against it), PostgreSQL server binaries and psql (the target and the pg
# state backend), Chromium (the audit report is opened in it headless), tmux
# (the interactive `jit request` test), node (the grant schema's patterns
# are checked as JavaScript reads them), terraform (built through the Go
# module proxy when it is not on PATH), and actionlint with shellcheck
# (make lint checks the workflows).
#
# Debian packages need root: run as root, or it prints the apt-get line to
# run and stops. Nothing is installed that is already present.
#
#   scripts/install-tools.sh          everything make test needs
#   scripts/install-tools.sh demo     only what make demo needs
set -euo pipefail
what="${1:-test}"
export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "install-tools: go is not installed; install Go $(sed -n 's/^go //p' "$(dirname "$0")/../go.mod") from https://go.dev/dl/" >&2; exit 1; }
export PATH="$PATH:$(go env GOPATH)/bin"

packages=()
command -v git >/dev/null || packages+=(git)
command -v ssh-keygen >/dev/null || packages+=(openssh-client)
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || ! command -v psql >/dev/null; then
	packages+=(postgresql postgresql-client)
fi
if [ "$what" = test ]; then
	command -v chromium >/dev/null || packages+=(chromium)
	command -v tmux >/dev/null || packages+=(tmux)
	command -v node >/dev/null || packages+=(nodejs)
	command -v shellcheck >/dev/null || packages+=(shellcheck)
fi
if [ "${#packages[@]}" -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-tools: missing Debian packages; run as root:" >&2
		echo "  apt-get update && apt-get install -y ${packages[*]}" >&2
		exit 1
	fi
	echo "install-tools: installing ${packages[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

if ! command -v terraform >/dev/null; then
	echo "install-tools: terraform is not on PATH; building v1.5.7 with go install into $(go env GOPATH)/bin (about 2.5 minutes)"
	go install github.com/hashicorp/terraform@v1.5.7
fi
if [ "$what" = test ] && ! command -v actionlint >/dev/null; then
	echo "install-tools: actionlint is not on PATH; installing v1.7.12 with go install"
	go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
fi
