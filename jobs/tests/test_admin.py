"""Failed-for-good jobs are visible in the admin, and can be queued again from there."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job, JobState


def test_it_lists_failed_jobs_with_their_error_and_queues_them_again(db):
    now = timezone.now()
    failed = Job.objects.create(
        function="monitoring.browser_check",
        subject="monitor:7",
        state=JobState.FAILED,
        attempts=2,
        max_attempts=2,
        last_error="timed out after 180 s: its worker was killed",
        run_after=now,
        created_at=now,
        finished_at=now,
    )
    admin = User.objects.create_superuser("root", password="correct-horse-battery-9")
    client = Client()
    client.force_login(admin)
    changelist = reverse("admin:jobs_job_changelist")
    page = client.get(changelist, {"state__exact": "failed"})
    assert page.status_code == 200
    assert "timed out after 180 s" in page.content.decode() and "monitor:7" in page.content.decode()
    assert client.get(reverse("admin:jobs_job_change", args=[failed.pk])).status_code == 200
    assert client.get(reverse("admin:monitoring_enginerun_changelist")).status_code == 200

    client.post(changelist, {"action": "queue_again", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert (failed.state, failed.attempts, failed.finished_at) == (JobState.QUEUED, 0, None)
