# Agency Pulse image for docker-compose.yaml: every Airflow service and the sandbox run it.
# The same pinned requirements as `make setup` (requirements.txt), then the package itself
# installed editable without dependencies, so the image and .venv never drift apart.
FROM python:3.11-slim-bookworm

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
    && uv pip install --system --no-cache -r requirements.txt

COPY --chown=airflow:0 src ./src
COPY --chown=airflow:0 plugins ./plugins
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 include ./include
# The build comments the warehouse's columns with docs/REFERENCE.md's column tables.
COPY --chown=airflow:0 docs ./docs
COPY --chown=airflow:0 scripts ./scripts
RUN uv pip install --system --no-cache --no-deps -e .

USER airflow
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["airflow", "version"]
