# syntax=docker/dockerfile:1
# Flowlearn sharing service (knowledge sharing). Build from the repository root:
#   docker build -f deploy/docker/sharing.Dockerfile -t flowlearn/sharing .
# It has no HTTP port: it talks to NATS and MongoDB only (configuration: FLOWLEARN_* env).

FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"

# The service and the shared package only: no development or test dependencies.
COPY shared /src/shared
COPY services/sharing /src/sharing
RUN pip install --no-cache-dir /src/shared /src/sharing


FROM python:3.11-slim AS runtime

LABEL org.opencontainers.image.title="flowlearn-sharing" \
      org.opencontainers.image.description="Flowlearn sharing service"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:$PATH" \
    FLOWLEARN_ENV=production

RUN groupadd --system --gid 10001 flowlearn \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin flowlearn

COPY --from=builder /opt/venv /opt/venv

# Numeric, so Kubernetes can verify runAsNonRoot. Nothing is written to disk.
USER 10001:10001
WORKDIR /app

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "flowlearn_shared.healthcheck", "sharing"]

CMD ["python", "-m", "flowlearn_sharing"]
