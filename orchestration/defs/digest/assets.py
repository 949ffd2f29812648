"""The `manager_digest` asset (docs/manager-digest.md): after a publication, one email per
manager with their direct reports at tier 1+, once a week. Off unless PIPELINE_MANAGER_DIGEST=on.

A ledger in the warehouse (pipeline.manager_digests) records each email sent (or written, in a
dry run): manager, week, recipient, how many reports, when. A manager already in the ledger for
the week gets nothing more, so a second run the same week sends nothing again, and a run that
fails half-way resends only what it had not sent.
"""

from collections import defaultdict
from email.message import EmailMessage

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.alerts.senders import scrub, smtp_send
from orchestration.defs.digest.compose import Report, digest_email
from orchestration.defs.resources import WAREHOUSE_POOL
from orchestration.defs.timing import Stopwatch
from orchestration.settings import PipelineSettings

LEDGER = "pipeline.manager_digests"
ALERTS = """
    select
        alerts.manager_id,
        workers.work_email,
        alerts.week_start,
        alerts.employee_id,
        alerts.tier,
        alerts.tier_label,
        alerts.recommended_action,
        alerts.follow_up_due,
        alerts.escalate_to_hr,
        alerts.activity_signal,
        alerts.score_signal,
        alerts.milestone_signal,
        alerts.has_compliance_breach,
        alerts.script
    from marts.mart_manager_alerts as alerts
    left join staging.stg_hris__workers as workers on workers.employee_id = alerts.manager_id
    order by alerts.manager_id, alerts.employee_id
"""


def ensure_ledger(conn) -> None:
    conn.execute("create schema if not exists pipeline")
    conn.execute(
        f"""
        create table if not exists {LEDGER} (
            manager_id varchar not null,
            week_start date not null,
            mode varchar not null,          -- sent | dry_run
            recipient varchar not null,
            reports integer not null,
            run_id varchar not null,
            sent_at timestamp not null default current_timestamp,
            primary key (manager_id, week_start, mode)
        )"""
    )


def _report(row: tuple) -> Report:
    (_, _, _, employee, tier, label, action, due, escalate, activity, score, milestone,
     breach, script) = row  # fmt: skip
    signals = [s for s in (activity, score, milestone) if s]
    if breach:
        signals.append("a compliance course is overdue or failed")
    return Report(employee, tier, label, action, due, escalate, tuple(signals), script)


def build_defs(settings: PipelineSettings) -> dg.Definitions:
    if not settings.digest.enabled:
        return dg.Definitions()

    @dg.asset(
        key="manager_digest",
        deps=["published"],
        group_name="publish",
        pool=WAREHOUSE_POOL,
        kinds={"email"},
        description=(
            "One email a week per manager with their direct reports at tier 1+ (banded "
            "signals, script, follow-up date), after a publication. PIPELINE_MANAGER_DIGEST=on."
        ),
    )
    def manager_digest(
        context: dg.AssetExecutionContext,
        pipeline: dg.ResourceParam[PipelineSettings],
        warehouse: DuckDBResource,
    ) -> dg.MaterializeResult:
        watch = Stopwatch()
        digest, smtp = pipeline.digest, pipeline.alerts
        if digest.dry_run_dir is None and not smtp.smtp_host:
            raise dg.Failure(
                description="PIPELINE_MANAGER_DIGEST=on needs PIPELINE_ALERT_SMTP_HOST to send "
                "(or PIPELINE_DIGEST_DRY_RUN=<dir> to write the emails as files)"
            )
        mode = "sent" if digest.dry_run_dir is None else "dry_run"
        counts = dict.fromkeys(("emails", "already_sent", "not_in_allowlist", "no_address"), 0)
        with warehouse.get_connection() as conn:
            ensure_ledger(conn)
            rows = conn.execute(ALERTS).fetchall()
            by_manager: dict[str, list[tuple]] = defaultdict(list)
            for row in rows:
                by_manager[row[0]].append(row)
            weeks = {row[2] for row in rows}
            done = {
                m
                for (m,) in conn.execute(
                    f"select manager_id from {LEDGER} "
                    "where mode = ? and list_contains(?, week_start)",
                    [mode, sorted(weeks)],
                ).fetchall()
            }
            for manager_id, manager_rows in by_manager.items():
                address, week_start = manager_rows[0][1], manager_rows[0][2]
                if digest.allowlist and manager_id not in digest.allowlist:
                    counts["not_in_allowlist"] += 1
                    continue
                if manager_id in done:
                    counts["already_sent"] += 1
                    continue
                if not address:
                    counts["no_address"] += 1
                    context.log.warning(f"Manager {manager_id} has no work_email: no digest")
                    continue
                message = digest_email(
                    manager_id,
                    address,
                    week_start,
                    [_report(r) for r in manager_rows],
                    sender=smtp.smtp_from,
                    bi_url=digest.bi_url,
                )
                _deliver(message, manager_id, pipeline, context)
                conn.execute(
                    f"insert into {LEDGER} (manager_id, week_start, mode, recipient, reports, "
                    "run_id) values (?, ?, ?, ?, ?, ?)",
                    [manager_id, week_start, mode, address, len(manager_rows), context.run_id],
                )
                counts["emails"] += 1
        context.log.info(
            f"Manager digest ({mode}): {counts['emails']} email(s); "
            f"{counts['already_sent']} manager(s) already had this week's"
        )
        return dg.MaterializeResult(
            metadata={
                "mode": mode,
                "week_start": ", ".join(sorted(str(w) for w in weeks)) or "none",
                "managers_with_alerts": len(by_manager),
                **counts,
                **watch.metadata(),
            }
        )

    return dg.Definitions(assets=[manager_digest])


def _deliver(message: EmailMessage, manager_id: str, pipeline: PipelineSettings, context) -> None:
    digest = pipeline.digest
    if digest.dry_run_dir is not None:
        digest.dry_run_dir.mkdir(parents=True, exist_ok=True)
        (digest.dry_run_dir / f"{manager_id}.eml").write_bytes(bytes(message))
        return
    try:
        smtp_send([message], pipeline.alerts)
    except Exception as exc:
        raise dg.Failure(
            description=f"Manager digest to {manager_id}: {scrub(exc, pipeline.alerts)}"
        ) from None
