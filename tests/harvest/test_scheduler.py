"""Schedules (issue 5 item 6): `ckan binhphuoc harvest run-due --now …` queues a
job for each enabled source whose cron schedule (croniter, portal time zone)
names a time since its last job, and never a second job while one runs."""
from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from ckanext.binhphuoc.harvest import scheduler as sched

UTC = dt.UTC
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
QUARTERLY = "0 2 1 1,4,7,10 *"


def test_next_run_reads_cron_in_the_portal_time_zone():
    after = dt.datetime(2026, 11, 22, tzinfo=UTC)
    nxt = sched.next_run(QUARTERLY, after, HCM)
    assert nxt == dt.datetime(2027, 1, 1, 2, 0, tzinfo=HCM)
    assert nxt == dt.datetime(2026, 12, 31, 19, 0, tzinfo=UTC)
    # strictly after: a job created at 02:00 on 1 April waits for July
    april = dt.datetime(2027, 4, 1, 2, 0, tzinfo=HCM)
    assert sched.next_run(QUARTERLY, april, HCM) == dt.datetime(2027, 7, 1, 2, 0, tzinfo=HCM)


PLUGINS = "binhphuoc_pgsearch activity harvest ckan_harvester binhphuoc_harvest"


@pytest.fixture
def site(clean_db, migrate_db_for):
    from ckan.tests import factories, helpers

    migrate_db_for("harvest")
    org = factories.Organization(name="so-y-te")
    user = helpers.call_action("get_site_user")

    def source(name, schedule=QUARTERLY, enabled=True):
        config = {"schedule": schedule} if schedule else {}
        return helpers.call_action(
            "harvest_source_create", context={"user": user["name"]}, name=name,
            url="https://%s.example.vn/" % name, source_type="ckan", title=name,
            owner_org=org["id"], config=json.dumps(config),
            extras=[{"key": "binhphuoc_enabled", "value": "true" if enabled else "false"}])

    return source


def past_job(source, created, status="Finished"):
    from ckanext.harvest.model import HarvestJob

    job = HarvestJob(source_id=source["id"], status=status)
    job.created = created.astimezone(UTC).replace(tzinfo=None)
    job.save()
    return job


def jobs_of(source):
    from ckanext.harvest.model import HarvestJob

    return HarvestJob.filter(source_id=source["id"]).all()


@pytest.fixture
def run_due(cli):
    import ckanext.binhphuoc.harvest.cli  # noqa: F401 — attaches `harvest`
    from ckanext.binhphuoc.cli import binhphuoc  # `ckan binhphuoc` (IClick)

    def run(*args):
        result = cli.invoke(binhphuoc, ["harvest", "run-due", *args])
        assert result.exit_code == 0, result.output
        return result.output

    return run


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins")
class TestRunDue:
    def test_due_and_not_due(self, site, run_due):
        src = site("y-te")
        past_job(src, dt.datetime(2026, 10, 1, 2, 0, 30, tzinfo=HCM))
        # before the next quarter: nothing
        out = run_due("--now", "2026-12-31T23:59:00+07:00", "-v")
        assert "not due  y-te  next run 2027-01-01 02:00 +0700" in out
        assert "0 job(s) queued, 1 scheduled source(s)" in out
        assert len(jobs_of(src)) == 1
        # the quarter has come (a naive --now is in the portal's time zone)
        out = run_due("--now", "2027-01-01T02:00")
        (job,) = [j for j in jobs_of(src) if j.status != "Finished"]
        assert "queued  y-te  job %s (%s)" % (job.id, QUARTERLY) in out
        assert job.status == "Running"  # sent to the gather queue
        assert "1 job(s) queued" in out

    def test_never_a_second_job_while_one_runs(self, site, run_due):
        src = site("y-te")
        running = past_job(src, dt.datetime(2026, 10, 1, 2, 0, tzinfo=HCM), status="Running")
        out = run_due("--now", "2027-01-02T00:00+07:00")
        assert "running  y-te  a job is not finished yet (%s)" % running.id in out
        assert "0 job(s) queued" in out
        assert len(jobs_of(src)) == 1
        # a New (not yet gathered) job blocks as well
        running.status = "New"
        running.save()
        assert "0 job(s) queued" in run_due("--now", "2027-01-02T00:00+07:00")

    def test_missed_runs_give_one_job(self, site, run_due):
        src = site("y-te", schedule="0 * * * *")
        past_job(src, dt.datetime(2027, 1, 1, 0, 0, tzinfo=HCM))
        assert "1 job(s) queued" in run_due("--now", "2027-01-01T09:30+07:00")
        assert "0 job(s) queued" in run_due("--now", "2027-01-01T10:30+07:00")
        assert len(jobs_of(src)) == 2

    def test_never_run_disabled_and_unscheduled(self, site, run_due):
        fresh = site("moi")
        site("tat", enabled=False)
        site("tay", schedule=None)  # no schedule: not ours to run
        out = run_due("--now", "2027-02-01T10:00+07:00", "-v")
        assert "queued  moi" in out and "disabled  tat" in out and "tay" not in out
        assert "1 job(s) queued, 2 scheduled source(s)" in out
        assert len(jobs_of(fresh)) == 1

    def test_dry_run_queues_nothing(self, site, run_due):
        src = site("y-te")
        out = run_due("--now", "2027-02-01T10:00+07:00", "--dry-run")
        assert "due  y-te" in out and jobs_of(src) == []

    def test_scheduler_once_and_status(self, site, cli):
        import ckanext.binhphuoc.harvest.cli  # noqa: F401
        from ckanext.binhphuoc.cli import binhphuoc

        src = site("y-te", schedule="* * * * *")
        result = cli.invoke(binhphuoc, ["harvest", "scheduler", "--once"])
        assert result.exit_code == 0, result.output
        (job,) = jobs_of(src)
        assert "queued job %s for y-te" % job.id in result.output
        result = cli.invoke(binhphuoc, ["harvest", "status"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("running    y-te")


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins")
def test_a_backup_after_each_harvest_cycle(site, cli, tmp_path, ckan_config, monkeypatch):
    """ckanext.binhphuoc.backup.after_harvest: the scheduler writes an archive
    once a harvest cycle has ended (no job New/Running, one finished since the
    newest archive), once per cycle, and keeps the configured number."""
    import ckanext.binhphuoc.harvest.cli  # noqa: F401
    from ckanext.binhphuoc import backup
    from ckanext.binhphuoc.cli import binhphuoc

    monkeypatch.setitem(ckan_config, "ckanext.binhphuoc.backup.dir", str(tmp_path))
    monkeypatch.setitem(ckan_config, "ckanext.binhphuoc.backup.keep", "1")
    src = site("y-te", schedule=None)  # unscheduled: the scheduler queues nothing itself

    def round_():
        result = cli.invoke(binhphuoc, ["harvest", "scheduler", "--once"])
        assert result.exit_code == 0, result.output
        return backup.archives(tmp_path)

    job = past_job(src, dt.datetime.now(UTC) - dt.timedelta(minutes=5), status="Running")
    assert round_() == []                      # not enabled
    monkeypatch.setitem(ckan_config, "ckanext.binhphuoc.backup.after_harvest", "true")
    assert round_() == []                      # the cycle is still running
    job.status, job.finished = "Finished", dt.datetime.utcnow()
    job.save()
    first = round_()
    assert len(first) == 1                     # the cycle ended: one archive
    assert round_() == first                   # nothing new since: none more
    again = past_job(src, dt.datetime.now(UTC), status="Finished")
    again.finished = dt.datetime.utcnow() + dt.timedelta(seconds=1)
    again.save()
    second = round_()
    assert len(second) == 1 and second != first  # a new cycle; keep = 1 pruned the first


def test_default_schedule_runs_inside_the_agencies_window():
    """Issue 16 item 8: the default quarterly harvest runs after the quarter
    starts and on or before the profile's ``quarterly_data_update`` deadline
    of that quarter (the 15th), every quarter of a year — not on day 1,
    before the agencies have had their window."""
    from importlib import resources

    import yaml

    from ckanext.binhphuoc import profile

    text = resources.files("ckanext.binhphuoc.harvest").joinpath(
        "config_declaration.yaml").read_text(encoding="utf-8")
    options = {o["key"]: o for g in yaml.safe_load(text)["groups"] for o in g["options"]}
    default = options["ckanext.binhphuoc.harvest.default_schedule"]["default"]
    deadlines = {d.month: d.day for d in
                 profile.get_profile("binhphuoc").deadlines("quarterly_data_update")}
    after = dt.datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # 1 Jan 2027, 00:00 in HCM
    for _ in range(4):
        run = sched.next_run(default, after, HCM).astimezone(HCM)
        assert run.month in deadlines and 1 < run.day <= deadlines[run.month], run
        after = run.astimezone(UTC)
