"""The Celery application; settings are read from Django's, namespaced CELERY_."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netpolui.settings")

app = Celery("netpolui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
