#!/bin/sh
# /bin/node_exporter: Debian's prometheus-node-exporter with upstream's default collectors.
# Debian turns the systemd collector on by default (upstream leaves it off); without the
# host's D-Bus socket it fails on every scrape. A --collector.systemd given here still wins.
exec /usr/libexec/node_exporter/node_exporter --no-collector.systemd "$@"
