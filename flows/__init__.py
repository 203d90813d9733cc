"""Prefect flows: each stage as a cached task writing a run folder, plus the whole pipeline.

Flows hold no stage logic; they load inputs, call stage functions from `pipelines`, persist the
run folder, and publish artifacts. The `tuneset` command line (flows.cli) is a thin shell over them.
"""
