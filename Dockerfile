# Slim runtime image of the gateway. Production settings come from the environment:
#   docker run -e GATEWAY_DATABASE_URL=postgresql://user@db/orders -p 8000:8000 privacy-gateway
# Run `privacy-gateway migrate` once per schema change (same image, different command).
# Production mode: no key is ever generated in a container (a fresh key per container
# would seal data nobody can read later); give GATEWAY_KEKS, GATEWAY_BLIND_INDEX_KEY and
# GATEWAY_AUDIT_SIGNING_KEY, or mount key files and set GATEWAY_KEYS_DIR.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY policies ./policies
COPY migrations ./migrations
COPY gateway ./gateway
COPY audit ./audit
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_MODE=production \
    GATEWAY_VAR_DIR=/app/var
RUN useradd --system --create-home --home-dir /app gateway
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# The default policy and the migrations ship inside the wheel (site-packages, owned by
# root): the service cannot rewrite its own policy. Mount another read-only and point
# GATEWAY_POLICY_DIR at it to change the policy.
RUN mkdir -p /app/var && chown gateway:gateway /app/var && chmod 0700 /app/var
USER gateway
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["privacy-gateway", "serve"]
