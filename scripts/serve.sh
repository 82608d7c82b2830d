#!/bin/sh
# The development server with the one scheduler beside it; stopping the server stops the scheduler.
set -eu
FLASK="${FLASK:-.venv/bin/flask --app wsgi}"
PORT="${PORT:-5000}"
$FLASK scheduler &
scheduler_pid=$!
trap 'kill "$scheduler_pid" 2>/dev/null || true' EXIT INT TERM
$FLASK run --host 127.0.0.1 --port "$PORT"
