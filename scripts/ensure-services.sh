#!/usr/bin/env bash
# Make sure the servers the tests talk to answer on 127.0.0.1; start any that does not.
# Redis (6379) and NATS with JetStream (4222) are started by the machine before a session;
# this script only restarts them if they stopped, with the machine's documented commands.
set -u

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local port=$1 name=$2
  for _ in $(seq 1 50); do answers "$port" && return 0; sleep 0.2; done
  echo "ensure-services: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

if ! answers 6379; then
  echo "ensure-services: starting Redis" >&2
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for 6379 Redis
  else
    echo "ensure-services: redis-server is not installed" >&2
  fi
fi

if ! answers 4222; then
  echo "ensure-services: starting NATS with JetStream" >&2
  if [ -x /usr/sbin/nats-server ]; then
    mkdir -p /var/lib/nats-server
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    wait_for 4222 NATS
  else
    echo "ensure-services: nats-server is not installed" >&2
  fi
fi
exit 0
