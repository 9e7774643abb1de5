# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PAYROLL_VAR_DIR=/var/lib/payroll
RUN apt-get update && apt-get install -y --no-install-recommends gettext fonts-wqy-zenhei openssl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/payroll payroll
WORKDIR /app
COPY pyproject.toml README.md ./
COPY apps apps
COPY config config
COPY payroll_exchange payroll_exchange
COPY payroll_client payroll_client
COPY templates templates
COPY static static
COPY locale locale
COPY manage.py ./
RUN pip install --no-cache-dir . && python manage.py compilemessages -v 0 \
    && mkdir -p /var/lib/payroll && chown payroll /var/lib/payroll
USER payroll
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
