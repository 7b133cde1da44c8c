# One image for every process: web (gunicorn), worker and beat (celery), and the one-shot migrate.
# docker-compose.yml chooses the command; docs/deploy.md lists the environment.
FROM python:3.11-slim

# PYTHONPATH: the app runs from the source tree in /app, where templates/ and static/ sit next to
# the packages (settings find them relative to spm/), rather than from site-packages.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app
RUN groupadd --system spm && useradd --system --gid spm --home-dir /app --no-create-home spm

COPY . .
# requirements.lock pins every dependency, so an image built later runs the versions CI tested.
RUN pip install -c requirements.lock . \
    && DEBUG=0 SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput

USER spm
EXPOSE 8000
CMD ["gunicorn", "spm.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
