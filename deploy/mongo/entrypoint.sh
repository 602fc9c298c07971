#!/bin/bash
# Entrypoint of the mongo service in docker-compose.yml.
#
# A replica set with authentication needs a key file, which members use to authenticate to
# each other. This single-node set generates one on first start, keeps it in the
# /data/configdb volume, and then hands over to the image's own entrypoint (which creates
# the root user from MONGO_INITDB_ROOT_USERNAME / MONGO_INITDB_ROOT_PASSWORD on first start).
set -euo pipefail

keyfile="${MONGO_KEYFILE:-/data/configdb/keyfile}"

if [ ! -s "$keyfile" ]; then
	umask 077
	# 756 random bytes -> 1008 base64 characters (a key file holds 6 to 1024).
	head -c 756 /dev/urandom | base64 -w 0 > "$keyfile.tmp"
	mv "$keyfile.tmp" "$keyfile"
	echo "generated replica set key file $keyfile" >&2
fi
# mongod refuses a key file that others can read; it runs as the image's mongodb user.
chown mongodb:mongodb "$keyfile"
chmod 0400 "$keyfile"

exec docker-entrypoint.sh "$@"
