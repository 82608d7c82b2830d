"""``flask bench``: the synthetic data sets bench/run.py measures (registered in bench mode only)."""

import time

import click
from flask.cli import AppGroup

from app.timeutil import today
from bench.data import analyze, seed, seed_readings, seed_submissions

bench_cli = AppGroup("bench", help="Benchmark support (see bench/README.md).")


@bench_cli.command("seed")
@click.option("--milestones", type=click.IntRange(10, 5_000_000), default=50_000, show_default=True)
def bench_seed(milestones):
    """Add a synthetic data set of about MILESTONES milestones (10 per recommendation)."""
    started = time.perf_counter()
    result = seed(milestones, today(), echo=click.echo)
    click.echo(f"seeded {result} in {time.perf_counter() - started:.1f} s")


@bench_cli.command("readings")
def bench_readings():
    """Add a quarterly metric with readings to every recommendation that has none."""
    seed_readings(today(), echo=click.echo)
    analyze()


@bench_cli.command("submissions")
def bench_submissions():
    """Add plans and 90-day status updates to every recommendation that has sent none."""
    seed_submissions(today(), echo=click.echo)
