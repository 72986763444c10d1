#!/usr/bin/env bash
# Start the local services the tests talk to when they are not already up.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! up 6379 && command -v redis-server >/dev/null; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! up 5672 && command -v rabbitmq-server >/dev/null; then
  rabbitmq-server -detached
fi
if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi

# RabbitMQ's -detached returns before it listens: wait (bounded) for each service that exists,
# so the worker tests do not race its boot. S3 (SeaweedFS) is started by the tests' fixture.
wait_up() {
  local port=$1 tries=0
  while ! up "$port" && [ "$tries" -lt 120 ]; do sleep 0.5; tries=$((tries + 1)); done
}
command -v redis-server >/dev/null && wait_up 6379
command -v rabbitmq-server >/dev/null && wait_up 5672
exit 0
