# Build context: the repository root.
#   docker build -f deploy/docker/gateway.Dockerfile -t flowlearn-gateway .
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"

# Only the gateway and the shared contracts: no other service enters this image.
COPY shared /src/shared
COPY services/gateway /src/gateway
RUN pip install /src/shared /src/gateway


FROM python:3.11-slim

ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FLOWLEARN_GATEWAY_HTTP_HOST=0.0.0.0

RUN groupadd --system --gid 10001 flowlearn \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent flowlearn
COPY --from=build /opt/venv /opt/venv

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import os, urllib.request; e = os.environ; port = e.get('FLOWLEARN_GATEWAY_HTTP_PORT') or e.get('FLOWLEARN_HTTP_PORT') or '8000'; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2)"

# uvicorn stops gracefully on SIGTERM (docker stop).
CMD ["python", "-m", "flowlearn_gateway"]
