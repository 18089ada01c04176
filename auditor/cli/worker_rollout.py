"""The worker's policy roll-out parts, wired: the pack's watch and switch, and shadow mode."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from auditor import kafka_config
from auditor.engine import Engine
from auditor.legal import LegalTablesError
from auditor.ops.reloads import PolicyReloads
from auditor.ops.shadow_metrics import ShadowMetrics
from auditor.ops.telemetry import Telemetry
from auditor.policy import PolicyError
from auditor.policy.packs import resolve_policy
from auditor.stream.batches import BatchHook, Observer
from auditor.stream.policy_watch import PolicyWatch, pack_loader
from auditor.stream.rollout import Rollout
from auditor.stream.settings import Settings
from auditor.stream.shadow import KafkaShadowOut, Shadow


@dataclass
class RolloutParts:
    """What ``create_app`` is given (``hooks``, ``observing``) and the watches to run."""

    hooks: list[BatchHook] = field(default_factory=list)
    watches: list[PolicyWatch] = field(default_factory=list)
    shadow: Shadow | None = None

    def observing(self, observe: Observer) -> Observer:
        """The batch loop's observer: ``observe`` (metrics), and the shadow's if any."""
        return observe if self.shadow is None else self.shadow.observing(observe)

    def start(self) -> None:
        for watch in self.watches:
            watch.start()

    def stop(self) -> None:
        for watch in self.watches:
            watch.stop()


def rollout_parts(settings: Settings, engine: Engine, telemetry: Telemetry) -> RolloutParts:
    """The live pack's watch and switch (unless AUDITOR_POLICY_WATCH_INTERVAL_S is 0) and,
    with AUDITOR_SHADOW_POLICY, shadow mode (its candidate watched too)."""
    parts = RolloutParts()
    load = pack_loader(settings.policy_roots)
    interval = settings.policy_watch_interval_s
    worker = settings.worker_id
    if interval > 0:
        reloads = PolicyReloads(telemetry)
        rollout = Rollout(engine, reloads, memory=engine.memory is not None)
        parts.hooks.append(rollout)
        parts.watches.append(PolicyWatch(
            resolve_policy(settings.policy), load, on_engine=rollout.offer,
            on_error=rollout.failed, on_tick=reloads.tick, interval_s=interval))
        click.echo(f"auditor worker {worker}: a new version of the policy's files is taken "
                   f"between batches (looked at every {interval:g} s)", err=True)
    if settings.shadow_policy is None:
        return parts
    metrics = ShadowMetrics(telemetry.registry, engine)
    out = KafkaShadowOut(kafka_config.connection(settings), settings.shadow_topic,
                         metrics.count_records, timeout_s=settings.delivery_timeout_s)
    shadow = parts.shadow = Shadow(metrics, out, engine, worker_id=worker)
    parts.hooks.append(shadow)
    path = resolve_policy(settings.shadow_policy)
    try:
        shadow.offer(load(path))
        click.echo(f"auditor worker {worker}: shadow policy {path} compared with the live "
                   f"one; differences to {settings.shadow_topic}", err=True)
    except (PolicyError, LegalTablesError) as exc:
        # A candidate that does not load never stops the live auditing: it waits for a fix.
        shadow.failed(str(exc))
        click.echo(f"warning: auditor worker {worker}: shadow policy {path} does not "
                   f"load; no shadow until it does:\n{exc}", err=True)
    if interval > 0:
        parts.watches.append(PolicyWatch(
            path, load, on_engine=shadow.offer, on_error=shadow.failed, interval_s=interval,
            name="shadow-policy"))
    return parts
