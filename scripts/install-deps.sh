#!/usr/bin/env bash
# Installs the Debian packages that the integration tests run for real,
# when run as root and a package is missing. As another user it only says
# what is missing; the tests that need a missing server skip with a reason.
set -euo pipefail
packages=(
	ca-certificates
	openssh-server      # sftp-server and sshd: the SFTP channel and backend tests
	openssh-client      # ssh-keygen, sftp: the hosted SFTP server tests
	rabbitmq-server     # the rabbitmq backend tests
	postgresql          # the PostgreSQL store and scale-out tests
	dovecot-imapd       # the IMAP channel tests (dovecot-lda delivers)
	tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu # fax OCR
	poppler-utils       # pdftotext, pdftoppm, pdfimages
	chromium            # browser tests of the web UI
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nats-server: Debian's 2.9 rejects the JetStream settings the tests use, so
# the current server comes from the Go module proxy (as root, into
# /usr/local/bin).
if ! command -v nats-server >/dev/null && [ "$(id -u)" -eq 0 ]; then
	echo "install-deps: installing nats-server from the Go module proxy"
	GOBIN=/usr/local/bin go install github.com/nats-io/nats-server/v2@v2.15.2
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: not root; missing Debian packages: ${missing[*]}" >&2
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
