# The auditor image: docker-compose.yml runs `auditor worker` and the demo traffic from it.
# One fixed base image: the tag names the Python release, the digest (of the tag's
# multi-architecture index) is what Docker pulls (docs/reproducibility.md: how to move it).
FROM python:3.11.14-slim@sha256:c8271b1f627d0068857dce5b53e14a9558603b527e46f1f901722f935b786a39

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the package from a copy of the source: auditor/_schemas and auditor/_packs are
# links to ../schemas and ../policies, so those must sit beside auditor/ for the JSON
# Schemas and the shipped packs to land in the wheel. The lock file holds every
# dependency to the versions CI tested.
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY schemas ./schemas
COPY policies ./policies
COPY auditor ./auditor
RUN pip install -c requirements.lock . && rm -rf /src

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
