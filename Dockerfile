# The auditor image: docker-compose.yml runs `auditor worker` and the demo traffic from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the package from a copy of the source: auditor/_schemas is a link to ../schemas,
# so schemas/ must sit beside auditor/ for the JSON Schemas to land in the wheel.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY auditor ./auditor
RUN pip install . && rm -rf /src

# Policy packs (AUDITOR_POLICY names one) and the seed packs' example traffic.
WORKDIR /app
COPY policies ./policies
COPY examples ./examples

# Run as an unprivileged user; it writes nothing but a temporary directory.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home auditor
USER auditor

ENV AUDITOR_POLICY=/app/policies/natterbox.yaml \
    AUDITOR_METRICS_PORT=9464
EXPOSE 9464
ENTRYPOINT ["auditor"]
CMD ["worker"]
