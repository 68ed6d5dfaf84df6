#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, for the cluster fault tests and for trying
# orderflow on a cluster. Uses the installed rabbitmq-server (Debian's package) and leaves the
# machine's own node (rabbit@…, 5672) alone: each node here has its own name, ports, cookie,
# config, data and logs under one directory this script owns.
#
#   local.sh start        start every node that is not running (also one that was killed),
#                         join them into one cluster; idempotent
#   local.sh stop         stop every node (data kept; `start` brings the cluster back)
#   local.sh kill NODE    kill -9 the node's Erlang VM (NODE: 1, ofc1 or ofc1@localhost)
#   local.sh status       each node: running or not, its ports, and the cluster as node 1..3 sees it
#   local.sh ctl NODE ARGS...  rabbitmqctl ARGS against NODE (e.g. `ctl 1 list_queues name leader`)
#   local.sh urls         the [amqp] urls line for orderflow's config
#
# Nodes: ofc1@localhost, ofc2@localhost, ofc3@localhost; AMQP on 127.0.0.1:5701..5703, Erlang
# distribution on 25701..25703, no management plugin. Directory:
# ${ORDERFLOW_CLUSTER_DIR:-${TMPDIR:-/tmp}/orderflow-cluster}. Runs as root or as any user.
set -euo pipefail
exec </dev/null

DIR=${ORDERFLOW_CLUSTER_DIR:-${TMPDIR:-/tmp}/orderflow-cluster}
NODES=(1 2 3)
AMQP_BASE=5700
DIST_BASE=25700

say() { echo "local.sh: $*" >&2; }

# Debian's wrappers in /usr/sbin switch to the rabbitmq user (or refuse a normal user); the
# scripts behind them run as whoever calls them, with the environment set below.
bin() {
  if [ -x "/usr/lib/rabbitmq/bin/$1" ]; then
    echo "/usr/lib/rabbitmq/bin/$1"
  elif command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
  else
    say "$1 is not installed: apt-get install rabbitmq-server (scripts/services does it)"
    exit 1
  fi
}

node_name() { echo "ofc$1@localhost"; }
node_dir() { echo "$DIR/ofc$1"; }

# NODE given as 1, ofc1 or ofc1@localhost → 1
node_number() {
  local n=${1#ofc}
  n=${n%@localhost}
  case "$n" in
    1 | 2 | 3) echo "$n" ;;
    *)
      say "unknown node \`$1\`: use 1, 2 or 3 (or ofc1@localhost ...)"
      exit 2
      ;;
  esac
}

# Runs "$@" with node N's environment.
with_node() {
  local n=$1
  shift
  local d
  d=$(node_dir "$n")
  # HOME holds the one Erlang cookie every node and every rabbitmqctl here shares.
  env HOME="$DIR" \
    RABBITMQ_NODENAME="$(node_name "$n")" \
    RABBITMQ_USE_LONGNAME=false \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT=$((AMQP_BASE + n)) \
    RABBITMQ_DIST_PORT=$((DIST_BASE + n)) \
    RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" \
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$d/mnesia" \
    RABBITMQ_LOG_BASE="$d/log" \
    RABBITMQ_PID_FILE="$d/pid" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    "$@"
}

ctl() {
  local n=$1
  shift
  with_node "$n" "$(bin rabbitmqctl)" -n "$(node_name "$n")" "$@"
}

pid_of() { cat "$(node_dir "$1")/pid" 2>/dev/null || true; }

running() {
  local pid
  pid=$(pid_of "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

prepare() {
  mkdir -p "$DIR"
  if [ ! -s "$DIR/.erlang.cookie" ]; then
    # A cookie of this cluster's own, readable by its owner only (Erlang insists).
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$DIR/.erlang.cookie")
  fi
  chmod 600 "$DIR/.erlang.cookie"
  # Empty: the machine's /etc/rabbitmq/rabbitmq-env.conf (node name, ports) must not apply here.
  : >"$DIR/rabbitmq-env.conf"
  for n in "${NODES[@]}"; do
    local d
    d=$(node_dir "$n")
    mkdir -p "$d/mnesia" "$d/log"
    cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$((AMQP_BASE + n))
loopback_users = none
# Leave room on a shared machine: the memory alarm is tested by lowering it on purpose.
vm_memory_high_watermark.relative = 0.4
EOF
    echo "[]." >"$d/enabled_plugins"
  done
}

start() {
  prepare
  local started=()
  for n in "${NODES[@]}"; do
    if running "$n"; then continue; fi
    rm -f "$(node_dir "$n")/pid"
    say "starting $(node_name "$n") (AMQP 127.0.0.1:$((AMQP_BASE + n)))"
    (cd "$DIR" && with_node "$n" "$(bin rabbitmq-server)" -detached >>"$(node_dir "$n")/log/startup.log" 2>&1) || true
    started+=("$n")
  done
  # All at once: after a full stop each node waits for the others' tables.
  for n in "${started[@]}"; do
    if ! ctl "$n" wait --timeout 120 "$(node_dir "$n")/pid" >/dev/null 2>&1; then
      say "$(node_name "$n") did not start; see $(node_dir "$n")/log"
      exit 1
    fi
  done
  local first
  first=$(node_name 1)
  for n in 2 3; do
    # Joined once, a node stays a member across restarts and kills.
    if [ -e "$(node_dir "$n")/joined" ]; then continue; fi
    if ctl "$n" cluster_status --formatter json 2>/dev/null | grep -q "\"$first\""; then
      touch "$(node_dir "$n")/joined"
      continue
    fi
    say "joining $(node_name "$n") to $first"
    ctl "$n" stop_app >/dev/null 2>&1
    ctl "$n" reset >/dev/null 2>&1
    ctl "$n" join_cluster "$first" >/dev/null 2>&1
    ctl "$n" start_app >/dev/null 2>&1
    ctl "$n" await_startup --timeout 120 >/dev/null
    touch "$(node_dir "$n")/joined"
  done
  say "cluster up: $(urls)"
}

stop() {
  for n in 3 2 1; do
    if running "$n"; then
      say "stopping $(node_name "$n")"
      ctl "$n" stop "$(node_dir "$n")/pid" >/dev/null 2>&1 || true
    fi
  done
}

kill_node() {
  local n
  n=$(node_number "$1")
  local pid
  pid=$(pid_of "$n")
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    say "$(node_name "$n") is not running"
    return 0
  fi
  kill -9 "$pid"
  # Gone once kill -0 fails: the caller may restart it at once.
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  say "killed $(node_name "$n") (pid $pid)"
}

status() {
  for n in "${NODES[@]}"; do
    if running "$n"; then
      echo "$(node_name "$n") running pid $(pid_of "$n") amqp 127.0.0.1:$((AMQP_BASE + n)) dist $((DIST_BASE + n))"
    else
      echo "$(node_name "$n") stopped amqp 127.0.0.1:$((AMQP_BASE + n)) dist $((DIST_BASE + n))"
    fi
  done
  for n in "${NODES[@]}"; do
    if running "$n"; then
      # As one running node sees it: members, running members, alarms.
      ctl "$n" cluster_status 2>/dev/null | sed "s/\x1b\[[0-9;]*m//g" |
        sed -n -e '/^Disk Nodes/,/^Versions/p' -e '/^Alarms/,/^Network Partitions/p' |
        grep -v -e '^Versions' -e '^Network Partitions' || true
      break
    fi
  done
}

urls() {
  local out=""
  for n in "${NODES[@]}"; do
    out+="${out:+, }\"amqp://guest:guest@127.0.0.1:$((AMQP_BASE + n))/%2f\""
  done
  echo "urls = [$out]"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill)
    [ $# -eq 2 ] || { say "usage: local.sh kill NODE"; exit 2; }
    kill_node "$2"
    ;;
  status) status ;;
  ctl)
    [ $# -ge 3 ] || { say "usage: local.sh ctl NODE ARGS..."; exit 2; }
    n=$(node_number "$2")
    shift 2
    ctl "$n" "$@"
    ;;
  urls) urls ;;
  *)
    say "usage: local.sh start|stop|kill NODE|status|ctl NODE ARGS...|urls"
    exit 2
    ;;
esac
