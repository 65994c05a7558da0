# Agency Pulse image for docker-compose.yaml: every Airflow service and the sandbox run it.
# The same pinned requirements as `make setup` (requirements.txt), then the package itself
# installed editable without dependencies, so the image and .venv never drift apart.
# BASE_IMAGE: any Debian bookworm image with Python 3.11 on PATH as `python` and pip; the
# official one by default (scripts/compose/build_images.sh makes one from Debian's packages
# where Docker Hub cannot be reached).
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title=agency-pulse

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow \
    AGENCY_PULSE_PROJECT=/opt/agency-pulse

# libpq for the PostgreSQL metadata database; tini reaps the task processes Celery forks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 tini \
    && rm -rf /var/lib/apt/lists/*

# Airflow refuses to run as root in production: one unprivileged user owns everything.
ARG AIRFLOW_UID=50000
RUN useradd --uid "${AIRFLOW_UID}" --gid 0 --create-home --home-dir /home/airflow airflow \
    && mkdir -p /opt/airflow/logs /opt/airflow/auth /opt/agency-pulse/data /opt/agency-pulse/warehouse \
    && chown -R airflow:0 /opt/airflow /opt/agency-pulse

WORKDIR /opt/agency-pulse
COPY --chown=airflow:0 requirements.txt pyproject.toml ./
RUN pip install --no-cache-dir uv==0.13.9 \
    && uv pip install --system --no-cache --compile-bytecode -r requirements.txt

COPY --chown=airflow:0 src ./src
COPY --chown=airflow:0 plugins ./plugins
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 include ./include
# The build comments the warehouse's columns with docs/REFERENCE.md's column tables.
COPY --chown=airflow:0 docs ./docs
COPY --chown=airflow:0 scripts ./scripts
RUN uv pip install --system --no-cache --no-deps -e .

USER airflow
# The dbt manifest the marts DAG renders one task per model from (written at set-up on a
# checkout; here once, from the project the image carries), and the project's bytecode.
# PYTHONDONTWRITEBYTECODE keeps task processes from writing .pyc files, so every module is
# compiled here (the requirements by --compile-bytecode above): otherwise each task process
# would compile Airflow's and dbt's sources again on import (seconds per task).
RUN python -c "from agency_pulse.marts_dag import write_manifest; print(write_manifest())" \
    && python -m compileall -q -j 0 /opt/agency-pulse/src /opt/agency-pulse/dags
# Every service refuses to start while a secret still holds .env.example's placeholder.
ENTRYPOINT ["/usr/bin/tini", "--", "python", "/opt/agency-pulse/scripts/compose/env_secrets.py", "exec", "--"]
CMD ["airflow", "version"]
