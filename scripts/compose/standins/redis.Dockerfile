# A stand-in for the official redis image, from Debian's package (see postgres.Dockerfile).
ARG DEBIAN_IMAGE=agency-pulse-debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
USER redis
CMD ["redis-server"]
