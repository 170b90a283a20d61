# syntax=docker/dockerfile:1
# Build: dependencies first (cached until pyproject.toml or constraints.txt change), then the source.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /venv
COPY pyproject.toml constraints.txt README.md ./
# Install the pinned dependencies alone (read from pyproject.toml), so a source change does not reinstall them.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && /venv/bin/pip install --no-cache-dir -c constraints.txt -r /tmp/requirements.txt
COPY moderation ./moderation
COPY api ./api
COPY moderation_cli ./moderation_cli
COPY models ./models
RUN /venv/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 moderation
COPY --from=build /venv /venv
COPY --from=build /src/models /app/models
WORKDIR /app
RUN mkdir -p /app/var && chown moderation /app/var
ENV PATH=/venv/bin:$PATH \
    MODERATION_ENV=production \
    MODERATION_BIND=0.0.0.0:8000 \
    MODERATION_MODEL_PATH=/app/models/comment-model.skops \
    MODERATION_DATA_DIR=/app/var
USER moderation
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"
# The same command the tests start; set REDIS_URL and MODERATION_SECRET_KEY when running the image.
CMD ["moderation", "serve"]
