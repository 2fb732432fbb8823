FROM python:3.11-slim AS assets
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json frontend/build.mjs ./
RUN npm ci --no-audit --no-fund && node build.mjs

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY netpolui netpolui
COPY policies policies
RUN pip install --no-cache-dir .
COPY manage.py ./
COPY frontend frontend
COPY --from=assets /src/frontend/static/vendor frontend/static/vendor
RUN useradd --system --uid 10001 netpolui && mkdir -p /app/var /app/staticfiles && chown -R netpolui /app/var /app/staticfiles
USER netpolui
EXPOSE 8000
CMD ["gunicorn", "netpolui.wsgi:application", "--bind", "0.0.0.0:8000"]
