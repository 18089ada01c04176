"""The ``auditor`` command line: one click group, one module per command family."""

from __future__ import annotations

import click

from auditor import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="auditor")
def main() -> None:
    """Check data flows (lineage events) against privacy policy packs."""


def _register() -> None:
    # Imported here so that `auditor --help` stays fast and a missing optional
    # piece names itself instead of breaking every command.
    from auditor.cli import (
        broker_cmd,
        check_cmd,
        demo_cmd,
        emit_cmd,
        policy_cmd,
        register_cmd,
        replay_cmd,
        traffic_cmd,
        worker_cmd,
    )

    main.add_command(check_cmd.check)
    main.add_command(check_cmd.explain)
    main.add_command(policy_cmd.policy)
    main.add_command(emit_cmd.emit)
    main.add_command(broker_cmd.broker)
    main.add_command(traffic_cmd.traffic)
    main.add_command(worker_cmd.worker)
    main.add_command(demo_cmd.demo)
    main.add_command(replay_cmd.replay)
    main.add_command(register_cmd.register)


_register()
