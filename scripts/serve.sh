#!/bin/sh
# The development server with the one scheduler beside it; when either stops, or on Ctrl-C, both stop.
set -u
FLASK="${FLASK:-.venv/bin/flask --app wsgi}"
PORT="${PORT:-5000}"
export PORT  # config.py points BASE_URL at this port when BASE_URL is unset
$FLASK scheduler &
scheduler_pid=$!
# Security keys (WebAuthn) need a host name, not an IP address: open the tracker at localhost.
echo "Open http://localhost:$PORT/ (security keys work at localhost, not at 127.0.0.1)"
$FLASK run --host 127.0.0.1 --port "$PORT" &
server_pid=$!
cleanup() { kill "$server_pid" "$scheduler_pid" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
wait "$server_pid"
