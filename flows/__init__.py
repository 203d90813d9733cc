"""Prefect flows: each stage as a cached task writing a run folder, plus the whole pipeline.

Flows hold no stage logic; they load inputs, call stage functions from `pipelines`, persist the
run folder, and publish artifacts. The `tuneset` command line (flows.cli) is a thin shell over them.
"""

import os

# Prefect's temporary server gets 120 s to start, not Prefect's 20 s: on a busy machine it often
# needs more. Set here, before Prefect reads its settings; a user's own value wins.
STARTUP_TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
os.environ.setdefault(STARTUP_TIMEOUT, "120")
