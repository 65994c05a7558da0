#!/usr/bin/env bash
# `make test-compose`: build the image, run docker-compose.yaml for real, check it, tear down.
#
# 1. installs Docker, docker-compose and debootstrap from Debian when missing (as root) and
#    starts dockerd when it is not running (and stops it again at the end);
# 2. builds the images: PYTHON_BASE_IMAGE / POSTGRES_IMAGE / REDIS_IMAGE when set (e.g. the
#    official ones), else stand-ins from Debian's packages (build_images.sh, cached by tag);
#    then the project's image from the Dockerfile on that base;
# 3. brings the stack up on the host's network, loopback only, on free ports
#    (docker-compose.hostnet.yaml), with freshly generated secrets; the init service runs
#    `airflow db migrate`, the pools, the sandbox connections and the UI login;
# 4. triggers the extract DAG through the API server (logged in), waits for the
#    Asset-triggered marts DAG on the Celery workers (check_stack.py), queries the marts in
#    the warehouse worker's volume and checks the plugin page;
# 5. always `docker compose down -v`: no container, network or volume is left behind.
#
# Prints the measured build and stack times. PYTHON (default .venv/bin/python) runs the checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
project_root=$PWD

PROJECT_NAME=${COMPOSE_TEST_PROJECT:-agency-pulse-compose-test}
IMAGE=agency-pulse:latest
CHECK_PYTHON=${PYTHON:-$project_root/.venv/bin/python}
TIMEOUT=${COMPOSE_TEST_TIMEOUT:-600}
log() { echo "[test-compose] $*" >&2; }
now() { date +%s; }
started_all=$(now)

# ---------------------------------------------------------------- 1. tools and the daemon
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
{ docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; } || missing+=(docker-compose)
if [ -z "${PYTHON_BASE_IMAGE:-}${POSTGRES_IMAGE:-}${REDIS_IMAGE:-}" ]; then
  command -v debootstrap >/dev/null || missing+=(debootstrap)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "test-compose needs ${missing[*]}: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  log "installing Debian's ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if docker compose version >/dev/null 2>&1; then compose_cmd=(docker compose); else compose_cmd=(docker-compose); fi

dockerd_pid=
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "the Docker daemon is not running: start it (sudo dockerd)" >&2; exit 1; }
  log "starting dockerd"
  dockerd >/tmp/agency-pulse-dockerd.log 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /tmp/agency-pulse-dockerd.log >&2; exit 1; }
fi

workdir=$(mktemp -d /tmp/agency-pulse-compose-test.XXXXXX)
chmod 700 "$workdir"
compose() {
  AGENCY_PULSE_ENV_FILE="$workdir/test.env" "${compose_cmd[@]}" -p "$PROJECT_NAME" \
    --project-directory "$project_root" --env-file "$workdir/test.env" \
    -f "$workdir/docker-compose.yaml" -f scripts/compose/docker-compose.hostnet.yaml "$@"
}
cleanup() {
  status=$?
  set +e
  if [ -f "$workdir/test.env" ] && [ -f "$workdir/docker-compose.yaml" ]; then
    if [ "$status" != 0 ]; then
      log "failed: the services' state and last log lines follow"
      compose ps >&2
      compose logs --no-color --tail=60 >&2 2>&1
    fi
    log "docker compose down -v"
    compose down -v --remove-orphans >/dev/null 2>&1
  fi
  rm -rf "$workdir"
  if [ -n "$dockerd_pid" ]; then
    log "stopping the dockerd this run started"
    kill "$dockerd_pid" 2>/dev/null
    for _ in $(seq 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- 2. images
started=$(now)
if [ -z "${PYTHON_BASE_IMAGE:-}${POSTGRES_IMAGE:-}${REDIS_IMAGE:-}" ]; then
  eval "$(scripts/compose/build_images.sh --print-env | sed 's/^/export /')"
fi
: "${PYTHON_BASE_IMAGE:?}" "${POSTGRES_IMAGE:?}" "${REDIS_IMAGE:?}"
bases_s=$(( $(now) - started ))
started=$(now)
log "building $IMAGE on $PYTHON_BASE_IMAGE"
docker build -q --network host --build-arg "BASE_IMAGE=$PYTHON_BASE_IMAGE" -t "$IMAGE" . >/dev/null
# The image this build replaced, untagged now: 1 GB each run otherwise.
docker image prune -f --filter label=org.opencontainers.image.title=agency-pulse >/dev/null
build_s=$(( $(now) - started ))
log "image built in $build_s s (base images: $bases_s s)"

# ---------------------------------------------------------------- 3. the stack
free_ports=$("$CHECK_PYTHON" - <<'PY'
import socket
sockets = [socket.socket() for _ in range(9)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
PY
)
read -r pg_port redis_port api_port sandbox_port health_port worker_log_port \
  warehouse_log_port trigger_log_port _ <<<"$free_ports"
umask 077
{
  "$CHECK_PYTHON" scripts/compose/env_secrets.py generate .env.example
  cat <<EOF
PYTHON_BASE_IMAGE=$PYTHON_BASE_IMAGE
POSTGRES_IMAGE=$POSTGRES_IMAGE
REDIS_IMAGE=$REDIS_IMAGE
AGENCY_PULSE_ENV_FILE=$workdir/test.env
AIRFLOW_WORKER_CONCURRENCY=4
AGENCY_PULSE_TASK_RETRIES=0
HOSTNET_POSTGRES_PORT=$pg_port
HOSTNET_REDIS_PORT=$redis_port
HOSTNET_API_PORT=$api_port
HOSTNET_SANDBOX_PORT=$sandbox_port
HOSTNET_SCHEDULER_HEALTH_PORT=$health_port
HOSTNET_WORKER_LOG_PORT=$worker_log_port
HOSTNET_WAREHOUSE_LOG_PORT=$warehouse_log_port
HOSTNET_TRIGGER_LOG_PORT=$trigger_log_port
EOF
} >"$workdir/test.env"
umask 022
# docker-compose.yaml as it is, less its published ports: on the host's network a container's
# ports are the host's already, and Docker refuses port bindings there (an override file
# can add to a list but not remove from it).
"$CHECK_PYTHON" - "$workdir/docker-compose.yaml" <<'PY'
import sys
import yaml
compose = yaml.safe_load(open("docker-compose.yaml", encoding="utf-8"))
for service in compose["services"].values():
    service.pop("ports", None)
with open(sys.argv[1], "w", encoding="utf-8") as file:
    yaml.safe_dump(compose, file, sort_keys=False)
PY
sed -n 's/^AIRFLOW_ADMIN_PASSWORD=//p' "$workdir/test.env" >"$workdir/password"
admin_user=$(sed -n 's/^AIRFLOW_ADMIN_USER=//p' "$workdir/test.env")

started=$(now)
log "docker compose up (api-server on 127.0.0.1:$api_port)"
compose up -d --no-build >"$workdir/up.log" 2>&1 || { cat "$workdir/up.log" >&2; exit 1; }
stack_up_s=$(( $(now) - started ))
log "stack up and healthy in $stack_up_s s"
compose logs --no-color airflow-init >"$workdir/init.log" 2>&1
grep -q "metadata database migrated" "$workdir/init.log" \
  || { echo "the init service did not migrate the database" >&2; exit 1; }

# ---------------------------------------------------------------- 4. the checks
started=$(now)
"$CHECK_PYTHON" scripts/compose/check_stack.py --api "http://127.0.0.1:$api_port" \
  --user "$admin_user" --password-file "$workdir/password" --timeout "$TIMEOUT" \
  | tee "$workdir/check.log"
pipeline_s=$(( $(now) - started ))

# The marts live in the warehouse volume, which only the warehouse worker mounts.
marts=$(compose exec -T airflow-worker-warehouse python - <<'PY'
import duckdb, os
con = duckdb.connect(os.environ["AGENCY_PULSE_WAREHOUSE"], read_only=True)
for name in ("agency_annual", "agency_monthly", "account_annual", "account_monthly"):
    schema = con.execute("select table_schema from information_schema.tables "
                         "where table_name = ?", [name]).fetchone()
    rows = con.execute(f'select count(*) from "{schema[0]}"."{name}"').fetchone()[0] if schema else 0
    print(f"{name}={rows}")
PY
)
echo "$marts" | sed 's/^/[test-compose] mart rows: /' >&2
if echo "$marts" | grep -qE '=0$' || [ "$(echo "$marts" | grep -c '=')" != 4 ]; then
  echo "a mart is missing or empty in the warehouse volume" >&2
  exit 1
fi
# ... and its Celery log shows the warehouse tasks, the default worker's none of them.
compose logs --no-color airflow-worker-warehouse >"$workdir/warehouse-worker.log" 2>&1
compose logs --no-color airflow-worker >"$workdir/worker.log" 2>&1
# The marts DAG's first writer is load_warehouse (one task per dbt model follows, the image
# carries the manifest), or build_warehouse where the manifest is missing.
if ! grep -qE "task_id='(load|build)_warehouse'" "$workdir/warehouse-worker.log" \
    || grep -q "PurePosixPath('agency_pulse_marts.py')" "$workdir/worker.log"; then
  echo "the marts DAG's tasks did not run on the warehouse worker alone" >&2
  exit 1
fi
models=$({ grep -o "task_id='dbt_models\.[^']*'" "$workdir/warehouse-worker.log" || true; } | sort -u | wc -l)
log "marts DAG: $models dbt model tasks ran on the warehouse worker"

log "measured: base images ${bases_s} s, image build ${build_s} s, stack up ${stack_up_s} s," \
  "pipeline and checks ${pipeline_s} s, total $(( $(now) - started_all )) s (before teardown)"
log "passed"
