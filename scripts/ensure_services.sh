#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on localhost: start them if installed but down.
set -uo pipefail
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is down; starting it..."
    for version in /etc/postgresql/*; do
      pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start || true
    done
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  if ! pg_up; then
    echo "PostgreSQL does not answer on $PG_HOST:$PG_PORT and is not installed here." >&2
    echo "Install it (Debian: apt-get install postgresql) or point PG_HOST/PG_PORT at one." >&2
    exit 1
  fi
fi

if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Redis is down; starting it..."
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/spm-test.log
    for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  fi
  if ! redis_up; then
    echo "Redis does not answer on 127.0.0.1:6379 and is not installed here." >&2
    echo "Install it (Debian: apt-get install redis-server)." >&2
    exit 1
  fi
fi
echo "PostgreSQL and Redis answer."
